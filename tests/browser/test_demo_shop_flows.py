"""The demo loop in a browser: a demo tracking link -> the demo shop (track.js keeps the click id) -> "Buy" ->
the conversion and the partner's commission exist, and the partner sees it on its dashboard."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from commissions.models import Commission
from network import demo as network_demo
from programs import demo as programs_demo
from tracking import clicks
from tracking.models import Conversion

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_shop(settings, live_server, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEMO_SHOP_URL = f"{live_server.url}/demo/shop/"
    settings.CLICK_QUEUE_URL = ""  # clicks written at once, with or without Redis
    clicks.clear_local_cache()
    ctx: dict = {}
    network_demo.seed(ctx)
    programs_demo.seed(ctx)
    yield ctx
    clicks.clear_local_cache()


def test_a_demo_link_leads_to_the_shop_where_buy_records_a_conversion_and_a_commission(demo_shop, new_page):
    visitor = new_page()
    visitor.goto("/c/trailgear01")
    visitor.wait_for_url(re.compile(r"/demo/shop/\?.*click_id="))
    expect(visitor.get_by_test_id("click-state")).to_contain_text("partner link: your purchase credits")
    visitor.get_by_test_id("buy-tent").click()
    expect(visitor.get_by_test_id("shop-result")).to_contain_text("Thank you! Order DEMO-")

    ana = demo_shop["affiliates"][0]
    conversion = Conversion.objects.get(order_id__startswith="DEMO-")
    assert (conversion.attribution, conversion.affiliate_id, conversion.amount, conversion.currency) == (
        "click", ana.pk, Decimal("249.00"), "EUR")
    [commission] = Commission.objects.filter(conversion_id=conversion.pk, affiliate=ana)
    # Trail Reviews is a gold partner: the program's 11 % gold rule.
    assert commission.amount == Decimal("27.39")

    partner = new_page()
    partner.goto("/accounts/login/")
    partner.fill("input[name=login]", ana.email)
    partner.fill("input[name=password]", network_demo.DEMO_PASSWORD)
    partner.click("main button[type=submit]")
    partner.wait_for_url(re.compile(r"/partner/$"))
    partner.goto("/partner/commissions/")
    expect(partner.locator("main")).to_contain_text("€27.39")


def test_the_shop_without_a_partner_link_records_an_unattributed_order(demo_shop, new_page):
    visitor = new_page()
    visitor.goto("/demo/shop/")
    expect(visitor.get_by_test_id("click-state")).to_contain_text("without a partner link")
    visitor.get_by_test_id("buy-pack").click()
    expect(visitor.get_by_test_id("shop-result")).to_contain_text("Thank you!")
    conversion = Conversion.objects.get(order_id__startswith="DEMO-")
    assert (conversion.attribution, conversion.affiliate_id) == ("none", None)
    assert not Commission.objects.filter(conversion_id=conversion.pk).exists()
