"""Partner groups in a real browser: the operator creates a group, ticks affiliates in the list and puts them in
it; the page does not scroll sideways on a phone."""

import pytest

from network.models import Affiliate, PartnerGroup

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


def test_operator_creates_a_group_and_puts_ticked_affiliates_in_it(world, new_page):
    with_password(world.a.owner.user)
    page = new_page()
    log_in(page, world.a.owner.user.email)
    page.goto("/operator/affiliates/")
    page.fill("#partner-groups input[name=name]", "Gold")
    page.fill("#partner-groups textarea[name=description]", "Best content sites")
    page.click("#partner-groups button[type=submit]")
    page.wait_for_selector("text=Partner group “Gold” created")
    gold = PartnerGroup.objects.get(network=world.a.network, name="Gold")
    page.check(f"input[name=affiliates][value='{world.a.affiliate.pk}']")
    page.check(f"input[name=affiliates][value='{world.a.affiliate2.pk}']")
    page.select_option("#group-assign select[name=group]", str(gold.pk))
    page.click("#group-assign button[type=submit]")
    page.wait_for_selector("text=2 affiliates moved to “Gold”.")
    assert set(Affiliate.objects.filter(group=gold).values_list("pk", flat=True)) == {
        world.a.affiliate.pk, world.a.affiliate2.pk}
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/operator/affiliates/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
    page.goto(f"/operator/affiliates/?group={gold.pk}")
    assert page.locator("[data-testid=partner-groups]").inner_text().count("Gold") == 1
