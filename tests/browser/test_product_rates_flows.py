"""Product-level rates in a real browser: the advertiser adds a rule for a category on the program form and sees it
in the rules table; the affiliate reads a cart's commission line by line; at 1366 and 390 px without sideways
scrolling."""

from decimal import Decimal

import pytest

from programs.models import Program
from tests.commissions.helpers import convert, program_with_link

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser
D = Decimal


@pytest.mark.parametrize("width", [1366, 390])
def test_an_advertiser_adds_a_category_rate_and_the_affiliate_reads_the_cart_line_by_line(
        world, browser, live_server, screenshot_dir, width):
    program, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10")},
        {"event": "sale", "kind": "percent", "payout": D("20"), "match": {"sku": ["TENT-2P"]}}])
    _, [commission] = convert(world.a, link, "cart-9", "139.89", items=[
        {"sku": "TENT-2P", "category": "tents", "amount": "129.90"}, {"sku": "SOCK", "amount": "9.99"}])
    with_password(world.a.advertiser.membership.user)
    with_password(world.a.affiliate.membership.user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    try:
        page = context.new_page()
        log_in(page, world.a.advertiser.email)
        page.goto(f"/advertiser/programs/{program.pk}/edit/")
        page.locator('[name="rules-0-payout"]').fill("15")
        page.locator('[name="rules-0-match_by"]').select_option("category")
        page.locator('[name="rules-0-match"]').fill("lanterns, stoves")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("button", name="Save").click()
        page.wait_for_load_state()
        assert Program.objects.get(pk=program.pk).rules.filter(match={"category": ["lanterns", "stoves"]}).exists()
        page.goto(f"/advertiser/programs/{program.pk}/edit/")
        assert page.get_by_text("category lanterns, stoves").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-product-rates-{width}.png"), full_page=True)
        context.clear_cookies()
        log_in(page, world.a.affiliate.email)
        page.goto(f"/partner/commissions/{commission.pk}/")
        items = page.get_by_test_id("explain-items")
        assert "€129.90 × 20% = €25.98" in items.inner_text() and "€9.99 × 10% = €1.00" in items.inner_text()
        assert page.get_by_text("€25.98 + €1.00 = €26.98").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"partner-commission-items-{width}.png"), full_page=True)
    finally:
        context.close()
