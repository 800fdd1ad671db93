"""tracking.demo: seeds conversions of each attribution once, and does nothing before programs' demo ran."""

import pytest

from tracking import demo
from tracking.models import Conversion, WebhookEndpoint

from .conversions_support import make_shop

pytestmark = pytest.mark.django_db


def test_demo_needs_links_first(world):
    demo.seed({"network": world.a.network, "advertisers": [world.a.advertiser]})
    assert Conversion.objects.count() == 0


def test_demo_seeds_click_coupon_and_unattributed_conversions_once(world):
    shop = make_shop(world.a)
    ctx = {"network": world.a.network, "advertisers": [world.a.advertiser], "links": [shop.link]}
    demo.seed(ctx)
    demo.seed(ctx)
    attributions = dict(Conversion.objects.values_list("order_id", "attribution"))
    assert attributions == {"DEMO-1001": "click", "DEMO-1002": "coupon", "DEMO-1003": "none",
                            "DEMO-1004": "click", "DEMO-1005": "coupon"}
    assert Conversion.objects.get(order_id="DEMO-1004").items == demo.CART
    assert WebhookEndpoint.objects.count() == 1
