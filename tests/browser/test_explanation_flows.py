"""A commission explains itself in a real browser: the affiliate opens it from the commissions list (on a phone
too, without sideways scrolling), the advertiser opens the same commission from its list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_click

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


def test_affiliate_and_advertiser_open_the_commission_from_their_lists(world, new_page, browser, live_server,
                                                                      screenshot_dir):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("10"), "revenue": Decimal("12")}])
    clicked = timezone.now() - timedelta(hours=2)
    click = make_click(link, created_at=clicked, sub1="fb", country="DE")
    _, [commission] = convert(world.a, link, "SO-7781", "249.90", click_id=click.click_id, clicked_at=clicked,
                              sub1="fb", country="DE")
    for member in (world.a.affiliate, world.a.advertiser):
        with_password(member.membership.user)

    partner = new_page()
    log_in(partner, world.a.affiliate.email)
    partner.goto("/partner/commissions/")
    partner.click(f'a[href="/partner/commissions/{commission.pk}/"]')
    partner.wait_for_url(f"**/partner/commissions/{commission.pk}/")
    assert partner.get_by_text("€249.90 × 10% = €24.99").is_visible()
    assert "€29.99" not in partner.content()  # the advertiser's price stays private
    partner.screenshot(path=str(screenshot_dir / "partner-commission-explained.png"), full_page=True)

    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = phone.new_page()
        log_in(page, world.a.affiliate.email)
        page.goto(f"/partner/commissions/{commission.pk}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()

    advertiser = new_page()
    log_in(advertiser, world.a.advertiser.email)
    advertiser.goto("/advertiser/commissions/")
    advertiser.click(f'a[href="/advertiser/commissions/{commission.pk}/"]')
    advertiser.wait_for_url(f"**/advertiser/commissions/{commission.pk}/")
    assert advertiser.get_by_text("€249.90 × 12% = €29.99").is_visible()
    advertiser.screenshot(path=str(screenshot_dir / "advertiser-commission-explained.png"), full_page=True)
