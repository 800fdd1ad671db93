"""The advertiser corrects a cart on the conversion page in a real browser: changes a line, adds one, removes one,
and sees the new commission on the page and the correction in the commission's explanation; at 1366 and 390 px
without sideways scrolling; and the order's history after a refund and a correction."""

from decimal import Decimal

import pytest

from tests.commissions.helpers import convert, program_with_link
from tests.commissions.test_product_rates import CART, RULES

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser
D = Decimal


@pytest.mark.parametrize("width", [1366, 390])
def test_the_advertiser_corrects_a_cart_and_reads_the_new_commission(world, new_page, screenshot_dir, width):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-7", "219.89", items=CART)
    assert commission.amount == D("36.98")
    with_password(world.a.advertiser.membership.user)
    page = new_page(width=width)
    log_in(page, world.a.advertiser.email)
    page.goto(f"/advertiser/conversions/{conversion.pk}/")
    form = page.get_by_test_id("adjust-form")
    assert form.locator('[name="items-0-sku"]').input_value() == "TENT-2P"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # A bad line first: the error shows next to it and nothing changes.
    form.locator('[name="items-1-amount"]').fill("forty")
    form.get_by_role("button", name="Correct the order").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("adjust-line-1").get_by_text('Enter an amount such as "10.00".').is_visible()
    # One pair of boots instead of two, the socks out, and a new tent in.
    form = page.get_by_test_id("adjust-form")
    form.locator('[name="items-1-amount"]').fill("40.00")
    form.locator('[name="items-1-quantity"]').fill("1")
    form.locator('[name="items-2-remove"]').check()
    form.locator('[name="items-3-sku"]').fill("TENT-3P")
    form.locator('[name="items-3-category"]').fill("tents")
    form.locator('[name="items-3-amount"]').fill("199.00")
    form.get_by_test_id("adjust-add-line").click()  # one more row, what was typed kept
    page.wait_for_load_state()
    form = page.get_by_test_id("adjust-form")
    assert form.locator('[name="items-3-sku"]').input_value() == "TENT-3P"
    assert form.locator('[name="items-4-sku"]').is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(screenshot_dir / f"advertiser-order-correction-{width}.png"), full_page=True)
    form.get_by_role("button", name="Correct the order").click()
    page.wait_for_load_state()
    assert page.get_by_text("Order corrected to €368.90").is_visible()
    assert page.get_by_role("cell", name="€50.88").is_visible()
    page.get_by_role("link", name=f"#{commission.pk}").click()
    page.wait_for_load_state()
    change = page.get_by_test_id("explain-order-change")
    text = change.inner_text()
    # The advertiser reads its cost (the commission's revenue) and each changed line.
    assert "Cost: €43.48 → €57.38." in text and "removed" in text
    assert change.get_by_role("row").filter(has_text="TENT-3P").get_by_text("€19.90").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(screenshot_dir / f"advertiser-order-corrected-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_advertiser_refunds_then_corrects_and_reads_the_orders_history(world, browser, live_server,
                                                                         screenshot_dir, width):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, _commissions = convert(world.a, link, "cart-8", "219.89", items=CART)
    user = world.a.advertiser.membership.user
    with_password(user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the refund button asks first
        log_in(page, world.a.advertiser.email)
        page.goto(f"/advertiser/conversions/{conversion.pk}/")
        history = page.get_by_test_id("conversion-history")
        assert history.get_by_test_id("history-recorded").get_by_text("Order recorded: €219.89.").is_visible()
        refund = page.locator("#refund")
        refund.locator('[name="amount"]').fill("19.89")
        refund.get_by_role("button", name="Refund").click()
        page.wait_for_load_state()
        form = page.get_by_test_id("adjust-form")
        form.locator('[name="items-2-remove"]').check()  # the socks go: 209.90
        form.get_by_role("button", name="Correct the order").click()
        page.wait_for_load_state()
        history = page.get_by_test_id("conversion-history")
        rows = history.locator("[data-testid^=history-]")
        assert [rows.nth(n).get_attribute("data-testid") for n in range(rows.count())] == [
            "history-recorded", "history-refunded", "history-corrected"]
        assert history.get_by_test_id("history-refunded").get_by_text("Refunded €19.89.").is_visible()
        corrected = history.get_by_test_id("history-corrected")
        assert corrected.get_by_text("Order corrected: €219.89 → €209.90.").is_visible()
        assert corrected.get_by_text("Its lines changed.").is_visible()
        assert corrected.get_by_text(user.email).is_visible()  # who acted
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-order-history-{width}.png"), full_page=True)
    finally:
        context.close()
