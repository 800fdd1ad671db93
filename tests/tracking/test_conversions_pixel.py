"""Image pixel postback: a per-advertiser token in the query, always a 1x1 GIF, the status code tells."""

import pytest

from tracking import fraud
from tracking.models import Conversion

from .conversions_support import click_at, make_shop

pytestmark = pytest.mark.django_db


def pixel_token(tenant) -> str:
    response = tenant.client("advertiser").get("/api/v1/conversions/pixel-token")
    assert response.status_code == 200
    assert response.json()["pixel_url"].startswith("http://testserver/api/v1/conversions/pixel?token=")
    return response.json()["token"]


def test_the_pixel_records_an_attributed_conversion_once(world, anon):
    shop = make_shop(world.a)
    click = click_at(shop.link)
    query = {"token": pixel_token(world.a), "order_id": "PX-1", "amount": "25.00", "currency": "EUR",
             "click_id": click.click_id}
    response = anon.get("/api/v1/conversions/pixel", query, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 201 and response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a") and "no-store" in response["Cache-Control"]
    conversion = Conversion.objects.get()
    assert (conversion.advertiser_id, conversion.attribution, conversion.affiliate_id) == (
        world.a.advertiser.pk, "click", world.a.affiliate.pk)
    assert conversion.customer_ip_hash == fraud.ip_hash("198.51.100.20")
    assert anon.get("/api/v1/conversions/pixel", query).status_code == 200
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("token", ["", "px_1_nope", "garbage", "px_x_y"])
def test_a_bad_token_is_403_and_records_nothing(world, anon, token):
    response = anon.get("/api/v1/conversions/pixel", {"token": token, "order_id": "PX", "amount": "1",
                                                     "currency": "EUR"})
    assert response.status_code == 403 and response["Content-Type"] == "image/gif"
    assert Conversion.objects.count() == 0


def test_another_advertisers_token_records_for_that_advertiser_only(world, anon):
    token_b = pixel_token(world.b)
    anon.get("/api/v1/conversions/pixel", {"token": token_b, "order_id": "PX", "amount": "1", "currency": "EUR"})
    assert list(Conversion.objects.values_list("network_id", "advertiser_id")) == [
        (world.b.network.pk, world.b.advertiser.pk)]


@pytest.mark.parametrize("query", [{"amount": "abc"}, {"currency": "ZZZ"}, {"click_id": "bad"}, {"order_id": ""}])
def test_bad_pixel_input_is_400(world, anon, query):
    base = {"token": pixel_token(world.a), "order_id": "PX", "amount": "1", "currency": "EUR"}
    response = anon.get("/api/v1/conversions/pixel", base | query)
    assert response.status_code == 400 and response.content.startswith(b"GIF89a")
    assert Conversion.objects.count() == 0


@pytest.mark.parametrize("role", ["affiliate", "owner"])
def test_only_advertisers_have_a_pixel_token(world, role, anon):
    assert world.a.client(role).get("/api/v1/conversions/pixel-token").status_code == 403
    assert anon.get("/api/v1/conversions/pixel-token").status_code == 401
