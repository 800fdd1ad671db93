"""Image pixel postback: a per-advertiser token in the query, always a 1x1 GIF, the status code tells."""

import hashlib
import hmac
import importlib

import pytest
from django.apps import apps as django_apps

from network.models import AuditLog, PartyStatus
from tracking import fraud
from tracking.models import Conversion, PixelToken

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


# --- the token: stored per advertiser, rotated -----------------------------------------------------------------
def _pixel(anon, token, order_id):
    return anon.get("/api/v1/conversions/pixel", {"token": token, "order_id": order_id, "amount": "5.00",
                                                  "currency": "EUR"}).status_code


def test_the_token_is_the_same_until_rotated(world):
    first = pixel_token(world.a)
    assert first.startswith(f"px_{world.a.advertiser.pk}_") and pixel_token(world.a) == first
    assert pixel_token(world.b) != first


def test_after_rotation_the_old_token_is_an_unknown_pixel_and_the_new_one_records(world, anon):
    old, other = pixel_token(world.a), pixel_token(world.b)
    rotated = world.a.client("advertiser").post("/api/v1/conversions/pixel-token/rotate")
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert new != old and f"token={new}&" in rotated.json()["pixel_url"] and pixel_token(world.a) == new
    assert _pixel(anon, old, "OLD") == 403
    assert _pixel(anon, new, "NEW") == 201
    assert _pixel(anon, other, "B") == 201  # another advertiser's token is unaffected
    assert list(Conversion.objects.order_by("pk").values_list("order_id", "advertiser_id")) == [
        ("NEW", world.a.advertiser.pk), ("B", world.b.advertiser.pk)]
    assert AuditLog.objects.filter(network=world.a.network, action="pixel_token.rotated").count() == 1


@pytest.mark.parametrize("role", ["affiliate", "owner"])
def test_only_advertisers_rotate_a_pixel_token(world, role, anon):
    token = pixel_token(world.a)
    assert world.a.client(role).post("/api/v1/conversions/pixel-token/rotate").status_code == 403
    assert anon.post("/api/v1/conversions/pixel-token/rotate").status_code == 401
    assert pixel_token(world.a) == token


def test_a_suspended_advertisers_token_is_an_unknown_pixel(world, anon):
    token = pixel_token(world.a)
    world.a.advertiser.status = PartyStatus.SUSPENDED
    world.a.advertiser.save(update_fields=["status"])
    assert _pixel(anon, token, "S") == 403


def test_the_migration_keeps_the_token_pixels_had_before_tokens_were_stored(world, anon, settings):
    migration = importlib.import_module("tracking.migrations.0012_pixeltoken")
    legacy = "px_{pk}_{digest}".format(pk=world.a.advertiser.pk, digest=hmac.new(
        settings.SECRET_KEY.encode(), f"pixel:{world.a.advertiser.pk}".encode(), hashlib.sha256).hexdigest()[:24])
    PixelToken.objects.all().delete()
    migration.store_legacy_tokens(django_apps, None)
    assert pixel_token(world.a) == legacy
    assert _pixel(anon, legacy, "LEGACY") == 201


def test_the_integration_page_shows_the_pixel_and_rotates_its_token(world, web, anon):
    client = web("a", "advertiser")
    old = pixel_token(world.a)
    assert f"token={old}&amp;" in client.get("/advertiser/integration/").content.decode()
    response = client.post("/advertiser/integration/pixel-token/rotate", follow=True)
    assert response.status_code == 200
    new = pixel_token(world.a)
    assert new != old and f"token={new}&amp;" in response.content.decode()
    assert _pixel(anon, old, "OLD") == 403
    assert web("a", "affiliate").post("/advertiser/integration/pixel-token/rotate").status_code == 403
