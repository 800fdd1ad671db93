"""The demo shop: served only with DEMO_SHOP_URL and a seeded demo; seed_demo points Northwind's programs at it;
the page carries track.js and the public pixel token, never an API key. (The whole loop in a browser:
tests/browser/test_demo_shop_flows.py.)"""

from decimal import Decimal

import pytest
from django.test import Client

from network import demo as network_demo
from programs import demo as programs_demo
from programs.models import Program
from tests.tracking.clicks_support import direct_clicks  # noqa: F401
from tracking.models import Conversion
from tracking.pixel import pixel_token_get

SHOP = "http://127.0.0.1:8000/demo/shop/"


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEMO_SHOP_URL = SHOP
    ctx: dict = {}
    network_demo.seed(ctx)
    programs_demo.seed(ctx)
    return ctx


def test_seed_points_northwinds_programs_at_the_shop_and_leaves_the_others(seeded):
    landing = dict(Program.objects.values_list("name", "landing_url"))
    assert landing["Northwind Trail Gear"] == SHOP
    assert landing["Northwind Newsletter Leads"] == SHOP + "?list=newsletter"
    assert landing["Blue Lantern Pro"] == "https://bluelantern.test/pricing"


def test_seed_without_a_shop_keeps_the_example_addresses_and_a_later_shop_moves_them(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEMO_SHOP_URL = ""
    ctx: dict = {}
    network_demo.seed(ctx)
    programs_demo.seed(ctx)
    assert Program.objects.get(name="Northwind Trail Gear").landing_url == "https://www.northwind.test/"
    settings.DEMO_SHOP_URL = "http://demo.example.net/demo/shop/"
    programs_demo.seed(dict(ctx))
    assert Program.objects.get(name="Northwind Trail Gear").landing_url == "http://demo.example.net/demo/shop/"
    assert Program.objects.count() == 3


def test_shop_page_carries_track_js_and_the_pixel_token_but_no_api_key(seeded):
    response = Client().get("/demo/shop/")
    assert response.status_code == 200
    body = response.content.decode()
    advertiser = seeded["advertisers"][0]
    assert "/static/js/track.js" in body and "/static/js/demo-shop.js" in body
    assert f'data-token="{pixel_token_get(network=seeded["network"], advertiser=advertiser)}"' in body
    assert 'data-pixel-url="/api/v1/conversions/pixel"' in body and 'data-currency="EUR"' in body
    assert "€249.00" in body
    assert "afk_" not in body


def test_shop_is_404_without_the_setting_or_without_the_demo(db, settings):
    settings.DEMO_SHOP_URL = SHOP
    assert Client().get("/demo/shop/").status_code == 404  # not seeded
    settings.DEMO_SHOP_URL = ""
    assert Client().get("/demo/shop/").status_code == 404


def test_shop_is_404_when_the_setting_is_off_even_with_the_demo(seeded, settings):
    settings.DEMO_SHOP_URL = ""
    assert Client().get("/demo/shop/").status_code == 404


def test_a_demo_link_lands_on_the_shop_and_its_buy_request_credits_the_partner(seeded, direct_clicks):  # noqa: F811
    # What the page's script does, step by step: follow the link, then call the pixel with the kept click id.
    client = Client()
    response = client.get("/c/trailgear01")
    assert response.status_code == 302 and response["Location"].startswith(SHOP + "?")
    click_id = response["Location"].split("click_id=")[1].split("&")[0]
    token = pixel_token_get(network=seeded["network"], advertiser=seeded["advertisers"][0])
    answer = client.get("/api/v1/conversions/pixel", {"token": token, "order_id": "DEMO-1", "amount": "249.00",
                                                      "currency": "EUR", "event": "sale", "click_id": click_id})
    assert answer.status_code == 201
    conversion = Conversion.objects.get(order_id="DEMO-1")
    assert (conversion.attribution, conversion.affiliate_id, conversion.amount) == (
        "click", seeded["affiliates"][0].pk, Decimal("249.00"))


def test_the_seeded_demo_is_listed_on_the_home_page_and_a_reseed_lists_an_old_one(seeded):
    assert 'href="/n/demo/join"' in Client().get("/").content.decode()
    network = seeded["network"]
    type(network).objects.filter(pk=network.pk).update(is_public=False)
    network_demo.seed({})
    network.refresh_from_db()
    assert network.is_public
