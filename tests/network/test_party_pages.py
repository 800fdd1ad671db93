"""Advertiser and partner shells: overviews with announcements for their audience, API keys, nav, money."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from network import navigation, services
from network.models import ApiKey, PartyStatus
from network.services import hash_api_key
from network.templatetags.web import money

PARTY_PAGES = {
    "advertiser": ["/advertiser/", "/advertiser/integration/"],
    "affiliate": ["/partner/", "/partner/announcements/", "/partner/api-keys/"],
}


@pytest.mark.parametrize(("role", "url"), [(r, u) for r, urls in PARTY_PAGES.items() for u in urls])
def test_party_pages_answer_their_party_only(web, role, url):
    assert web("a", role).get(url).status_code == 200
    other = "affiliate" if role == "advertiser" else "advertiser"
    assert web("a", other).get(url).status_code == 403
    assert web("a", "owner").get(url).status_code == 403
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_overviews_show_announcements_for_their_audience(world, web):
    for audience in ("all", "affiliates", "advertisers"):
        services.announcement_create(network=world.a.network, title=f"For {audience}", body="x", audience=audience,
                                     actor=None)
    services.announcement_create(network=world.b.network, title="Bravo news", body="x", audience="all", actor=None)
    partner = web("a", "affiliate").get("/partner/").content.decode()
    assert "For all" in partner and "For affiliates" in partner
    assert "For advertisers" not in partner and "Bravo news" not in partner
    advertiser = web("a", "advertiser").get("/advertiser/").content.decode()
    assert "For all" in advertiser and "For advertisers" in advertiser and "For affiliates" not in advertiser


def test_overviews_say_what_to_do_when_empty(web):
    assert b"No announcement yet" in web("a", "affiliate").get("/partner/").content
    assert b"Create an API key" in web("a", "advertiser").get("/advertiser/").content


def test_pending_affiliate_sees_that_approval_is_awaited(world, web):
    world.a.affiliate.status = PartyStatus.PENDING
    world.a.affiliate.save()
    assert b"waiting for approval" in web("a", "affiliate").get("/partner/").content


@pytest.mark.parametrize(("role", "url"), [("advertiser", "/advertiser/integration/"),
                                           ("affiliate", "/partner/api-keys/")])
def test_api_key_is_shown_once_stored_hashed_and_works(world, web, role, url):
    client = web("a", role)
    response = client.post(url, {"name": "shop server"})
    assert response.status_code == 200
    raw = response.context["issued"].raw
    assert raw.encode() in response.content
    key = ApiKey.objects.get(name="shop server")
    assert key.hashed_key == hash_api_key(raw) and key.membership == getattr(world.a, role).membership
    assert raw.encode() not in client.get(url).content
    from tests.conftest import api_client

    assert api_client(raw).get("/api/v1/me").status_code == 200


def test_empty_key_name_is_a_field_error(web):
    response = web("a", "affiliate").post("/partner/api-keys/", {"name": ""})
    assert response.status_code == 400 and b"This field is required." in response.content


def test_party_revokes_its_own_key_but_not_anothers(world, web):
    own = services.api_key_create(membership=world.a.affiliate.membership, name="mine").api_key
    neighbour = services.api_key_create(membership=world.a.affiliate2.membership, name="theirs").api_key
    foreign = services.api_key_create(membership=world.b.affiliate.membership, name="bravo").api_key
    client = web("a", "affiliate")
    assert client.post(f"/partner/api-keys/{neighbour.pk}/revoke").status_code == 404
    assert client.post(f"/partner/api-keys/{foreign.pk}/revoke").status_code == 404
    assert web("a", "advertiser").post(f"/advertiser/integration/keys/{own.pk}/revoke").status_code == 404
    assert web("a", "advertiser").post(f"/partner/api-keys/{own.pk}/revoke").status_code == 403
    assert client.post(f"/partner/api-keys/{own.pk}/revoke").status_code == 302
    own.refresh_from_db(), neighbour.refresh_from_db(), foreign.refresh_from_db()
    assert own.revoked_at is not None and neighbour.revoked_at is None and foreign.revoked_at is None


def test_nav_shows_the_sections_pages_and_marks_the_current_one(web):
    page = web("a", "affiliate").get("/partner/announcements/").content.decode()
    assert '<a href="/partner/announcements/" aria-current="page">Announcements</a>' in page
    assert '<a href="/partner/">Overview</a>' in page
    assert "/operator/" not in page


def test_other_apps_register_nav_items(web, settings):
    navigation.register("partner", "Extra", "partner_announcements", order=5)  # same url_name replaces
    try:
        items = navigation.items_for(role="affiliate", path="/partner/")
        assert [i["label"] for i in items][:2] == ["Overview", "Extra"]
        assert [i for i in items if i["current"]][0]["url"] == reverse("partner_dashboard")
    finally:
        navigation.register("partner", "Announcements", "partner_announcements", order=800)
    with pytest.raises(ValueError):
        navigation.register("nowhere", "X", "partner_dashboard")


def test_money_filter_formats_with_the_currencys_minor_units():
    assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert money("33.4", "JPY") == "¥33"
    assert money(Decimal("1.2345"), "KWD") == "KWD1.235"
    assert money(None, "EUR") == ""
    assert money("abc", "EUR") == "abc"


def test_home_page_links_to_login(db):
    response = Client().get("/")
    assert response.status_code == 200 and b"/accounts/login/" in response.content
