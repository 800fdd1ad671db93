"""One time zone: every page of a member shows times in the network's zone and says which (issue 18)."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from commissions.models import Commission
from network.models import Network
from tests.pages import make_shop, sale

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 2, 5, 39, tzinfo=UTC)  # 07:39 in Riga (EET, UTC+2): "7:39 AM" in English (Babel's en_US)


@pytest.fixture
def order(world):
    Network.objects.filter(pk=world.a.network.pk).update(timezone="Europe/Riga")
    shop = make_shop(world)
    conversion, commission = sale(world, shop, "ORDER-MIKE-2", created_at=AT)
    Commission.objects.filter(pk=commission.pk).update(created_at=AT)
    return conversion


def row_of(page: str, text: str) -> str:
    start = page.rindex("<tr", 0, page.index(text))
    return page[start:page.index("</tr>", start)]


def test_the_same_order_shows_the_same_local_time_to_the_advertiser_and_the_affiliate(world, web, order):
    advertiser = web("a", "advertiser").get("/advertiser/").content.decode()
    partner = web("a", "affiliate").get("/partner/commissions/").content.decode()
    for page in (advertiser, partner):
        row = row_of(page, "ORDER-MIKE-2")
        assert "7:39\u202fAM" in row and "5:39" not in row
        assert "Times in Europe/Riga" in page


@pytest.mark.parametrize("url", ["/advertiser/conversions/", "/operator/fraud/", "/operator/audit/"])
def test_advertiser_and_operator_pages_say_the_zone(world, web, order, url):
    role = "advertiser" if url.startswith("/advertiser/") else "owner"
    page = web("a", role).get(url).content.decode()
    assert "Times in Europe/Riga" in page and "(UTC)" not in page


def test_advertiser_conversions_list_shows_local_time(world, web, order):
    page = web("a", "advertiser").get("/advertiser/conversions/").content.decode()
    row = row_of(page, "ORDER-MIKE-2")
    assert "Nov 2, 2026, 7:39\u202fAM" in row and "5:39" not in row


def test_a_stranger_page_has_no_zone_footer_and_the_api_keeps_utc(world, web, order):
    assert "Times in" not in Client().get("/accounts/login/").content.decode()
    body = world.a.client("advertiser").get(f"/api/v1/conversions/{order.pk}").json()
    assert body["created_at"].startswith("2026-11-02T05:39")
    in_session = web("a", "advertiser").get(f"/api/v1/conversions/{order.pk}").json()  # a page's own fetch
    assert in_session["created_at"] == body["created_at"]
