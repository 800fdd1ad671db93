"""Caps in a real browser: the advertiser sets them in the program form (an error shown next to its field first),
reads what is left on the program page and its overview; the affiliate reads what is left for it; at 1366 and
390 px, without sideways scrolling."""

from decimal import Decimal

import pytest

from programs.models import Program
from tests.commissions.helpers import convert, program_with_link

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_caps_are_set_and_read_by_the_advertiser_and_the_affiliate(world, browser, live_server, screenshot_dir,
                                                                   width):
    program, link = program_with_link(world.a, name="Trail Gear", rules=[
        {"event": "sale", "kind": "fixed", "payout": Decimal("12")}])
    convert(world.a, link, "B-1", "80.00")
    with_password(world.a.advertiser.membership.user)
    with_password(world.a.affiliate.membership.user)
    contexts = []
    try:
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
        contexts.append(context)
        page = context.new_page()
        log_in(page, world.a.advertiser.email)
        page.goto(f"/advertiser/programs/{program.pk}/edit/")
        page.fill("input[name=caps_conversions_day]", "-3")
        page.fill("input[name=caps_payout_month]", "300")
        page.select_option("select[name=caps_action]", "pause")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Ensure this value is greater than or equal to 0.").wait_for()
        assert Program.objects.get(pk=program.pk).caps is None
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.fill("input[name=caps_conversions_day]", "5")
        page.get_by_role("button", name="Save").click()
        page.get_by_test_id("program-caps").wait_for()
        caps = page.get_by_test_id("program-caps").inner_text()
        # The sale before the caps counts: 4 of 5 left today, 288.00 of 300.00 this month.
        assert "4 of 5 conversions left today" in caps and "€288.00 of €300.00 payout budget left" in caps
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-program-caps-{width}.png"), full_page=True)
        page.goto("/advertiser/")
        assert "4 of 5 conversions left today" in page.get_by_test_id("dashboard-caps").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        partner = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
        contexts.append(partner)
        page = partner.new_page()
        log_in(page, world.a.affiliate.email)
        assert "4 of 5 conversions left today" in page.get_by_test_id("dashboard-caps").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.goto("/partner/programs/")
        assert "€288.00 of €300.00 payout budget left this month" in page.get_by_test_id(
            f"partnership-{program.pk}").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"partner-program-caps-{width}.png"), full_page=True)
    finally:
        for context in contexts:
            context.close()
