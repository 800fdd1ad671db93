"""A sale is never thrown away: a coupon that is not an affiliate's code is kept and the sale recorded (by its
click, its known customer, or unattributed with a warning), on the fast and full postback paths and the pixel;
refunds show as "Partially refunded" / "Refunded" in the API and on every page, their messages as money."""

from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.models import Transaction
from network.models import ApiKey, AuditLog
from network.services import hash_api_key
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_click
from tests.pages import web_client
from tracking.ids import new_click_id
from tracking.models import Conversion

from .conversions_support import click_at, make_shop, post_conversion
from .test_conversions_pixel import pixel_token

pytestmark = pytest.mark.django_db
TYPED = "SUMMER-SALE"  # what the customer typed at the merchant's checkout: nobody's code


@pytest.fixture
def shop(world):
    shop = make_shop(world.a)
    # A key used within the last minute: the fast path may serve it (it hands the first use to the full view).
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    return shop


# --- an unknown coupon beside a click ----------------------------------------------------------------
@pytest.mark.parametrize("path", ["fast", "full"])
def test_a_click_with_an_unknown_coupon_is_recorded_attributed_by_the_click_and_keeps_the_coupon(
        world, shop, full_view_calls, path):
    click = click_at(shop.link)
    extra = {"items": []} if path == "full" else {}  # `items` sends it down the full path
    response = post_conversion(world.a.client("advertiser"), click_id=click.click_id, coupon=TYPED, **extra)
    assert response.status_code == 201, response.json()
    assert full_view_calls == ([] if path == "fast" else ["ORD-1"])
    body = response.json()
    assert (body["attribution"], body["affiliate"], body["link"]) == ("click", world.a.affiliate.pk, shop.link.pk)
    assert body["coupon"] == TYPED and body["warnings"] == []
    stored = Conversion.objects.get(pk=body["id"])
    assert (stored.coupon_code, stored.coupon_id, stored.affiliate_id) == (TYPED, None, world.a.affiliate.pk)


@pytest.mark.parametrize("path", ["fast", "full"])
def test_an_affiliates_coupon_beside_a_click_is_linked_the_same_on_both_paths(world, shop, full_view_calls, path):
    click = click_at(shop.link)
    extra = {"items": []} if path == "full" else {}
    body = post_conversion(world.a.client("advertiser"), click_id=click.click_id, coupon=shop.coupon.code.lower(),
                           **extra).json()
    assert full_view_calls == ([] if path == "fast" else ["ORD-1"])
    assert (body["attribution"], body["affiliate"], body["coupon"]) == ("click", world.a.affiliate.pk,
                                                                         shop.coupon.code)
    assert Conversion.objects.get(pk=body["id"]).coupon_id == shop.coupon.pk


def test_a_coupon_without_a_click_goes_to_the_full_view_which_may_attribute_it(world, shop, full_view_calls):
    body = post_conversion(world.a.client("advertiser"), coupon=shop.coupon.code).json()
    assert full_view_calls == ["ORD-1"]
    assert (body["attribution"], body["affiliate"], body["warnings"]) == ("coupon", world.a.affiliate2.pk, [])


def test_the_pixel_records_a_click_with_an_unknown_coupon(world, anon, shop):
    click = click_at(shop.link)
    query = {"token": pixel_token(world.a), "order_id": "PX-1", "amount": "25.00", "currency": "EUR",
             "click_id": click.click_id, "coupon": TYPED}
    response = anon.get("/api/v1/conversions/pixel", query)
    assert response.status_code == 201 and "X-Conversion-Warnings" not in response
    conversion = Conversion.objects.get()
    assert (conversion.attribution, conversion.affiliate_id, conversion.coupon_code) == (
        "click", world.a.affiliate.pk, TYPED)


# --- an unknown coupon and nothing else ----------------------------------------------------------------
def test_an_unknown_coupon_alone_is_recorded_unattributed_with_a_warning_and_the_same_on_a_repeat(world, shop):
    client = world.a.client("advertiser")
    response = post_conversion(client, coupon=TYPED)
    assert response.status_code == 201
    body = response.json()
    assert (body["attribution"], body["affiliate"], body["program"], body["coupon"]) == ("none", None, None, TYPED)
    assert [(w["code"], w["field"]) for w in body["warnings"]] == [("unknown_coupon", "coupon")]
    assert f"Unknown coupon '{TYPED}'" in body["warnings"][0]["detail"]
    again = post_conversion(client, coupon=TYPED)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert again.json()["warnings"] == body["warnings"]
    assert Conversion.objects.get().coupon_code == TYPED
    listed = client.get(f"/api/v1/conversions/{body['id']}").json()
    assert listed["coupon"] == TYPED and "warnings" not in listed


def test_the_pixel_records_an_unknown_coupon_alone_and_says_so_in_a_header(world, anon, shop):
    query = {"token": pixel_token(world.a), "order_id": "PX-2", "amount": "25.00", "currency": "EUR",
             "coupon": TYPED}
    response = anon.get("/api/v1/conversions/pixel", query)
    assert response.status_code == 201 and response["X-Conversion-Warnings"] == "unknown_coupon"
    assert Conversion.objects.get().attribution == "none"


def test_a_known_customer_attributes_a_sale_with_an_unknown_coupon_without_a_warning(world, shop):
    client = world.a.client("advertiser")
    post_conversion(client, order_id="SUB-1", customer_id="cust-1", click_id=click_at(shop.link).click_id,
                    items=[])
    body = post_conversion(client, order_id="SUB-2", customer_id="cust-1", coupon=TYPED).json()
    assert (body["attribution"], body["affiliate"], body["coupon"], body["warnings"]) == (
        "customer", world.a.affiliate.pk, TYPED, [])


def test_a_click_on_its_way_is_no_reason_to_warn_and_attributes_when_ingested(world, shop,
                                                                                django_capture_on_commit_callbacks):
    click_id = new_click_id()  # well formed, not ingested yet
    with django_capture_on_commit_callbacks(execute=True):
        body = post_conversion(world.a.client("advertiser"), click_id=click_id, coupon=TYPED).json()
    assert (body["attribution"], body["attribution_pending"], body["warnings"]) == ("none", True, [])
    from tracking.services import conversion_attribute_pending

    make_click(shop.link, click_id=click_id, created_at=timezone.now())
    assert conversion_attribute_pending(conversion_id=body["id"]) == "click"
    stored = Conversion.objects.get(pk=body["id"])
    assert (stored.affiliate_id, stored.coupon_code) == (world.a.affiliate.pk, TYPED)


def test_the_schema_documents_warnings_and_refund_status(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    recorded = components["ConversionRecorded"]["properties"]
    assert "warnings" in recorded and "refund_status" in recorded
    post = schema["paths"]["/api/v1/conversions/"]["post"]["responses"]["201"]["content"]["application/json"]
    assert post["schema"]["$ref"].endswith("/ConversionRecorded")
    assert "refund_status" in components["Conversion"]["properties"]


# --- refunds ---------------------------------------------------------------------------------------------
@pytest.fixture
def sold(world):
    _, link = program_with_link(world.a, name="Outdoor Gear",
                                rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10")}])
    conversion, [commission] = convert(world.a, link, "ORD-163", "163.75")
    return conversion, commission


def _refund(client, conversion, **body):
    return client.post(f"/api/v1/conversions/{conversion.pk}/refund", body, format="json")


def test_refund_status_in_the_api_for_every_party_and_as_a_filter(world, sold):
    conversion, _ = sold
    advertiser = world.a.client("advertiser")
    assert advertiser.get(f"/api/v1/conversions/{conversion.pk}").json()["refund_status"] == "none"
    partial = _refund(advertiser, conversion, amount="60.00")
    assert partial.status_code == 200 and partial.json()["refund_status"] == "partial"
    for role in ("advertiser", "affiliate", "owner"):
        client = world.a.client(role)
        assert client.get(f"/api/v1/conversions/{conversion.pk}").json()["refund_status"] == "partial", role
        assert [row["id"] for row in client.get("/api/v1/conversions?refund_status=partial").json()["results"]] == [
            conversion.pk], role
        assert client.get("/api/v1/conversions?refund_status=full").json()["results"] == [], role
    full = _refund(advertiser, conversion)
    assert full.status_code == 200 and full.json()["refund_status"] == "full"
    assert world.a.client("affiliate").get(f"/api/v1/conversions/{conversion.pk}").json()["refund_status"] == "full"
    assert advertiser.get("/api/v1/conversions?refund_status=nope").status_code == 400


def test_refund_messages_are_money(world, sold):
    conversion, _ = sold
    client = web_client(world.a.advertiser)
    url = f"/advertiser/conversions/{conversion.pk}/"
    too_much = client.post(url, {"amount": "200.00"}).content.decode()
    assert "Larger than what remains to refund (€163.75)." in too_much
    api = _refund(world.a.client("advertiser"), conversion, amount="200.00")
    assert api.status_code == 400 and "(€163.75)" in str(api.json()["amount"])
    page = client.post(url, {"amount": ""}, follow=True).content.decode()
    assert "Refunded €163.75; its commissions are reversed." in page
    assert "163.750000" not in page and "163.75 EUR" not in page
    refund_log = AuditLog.objects.get(action="conversion.refunded")
    assert refund_log.data["amount"] == "163.75" and refund_log.data["refund_status"] == "full"
    memos = list(Transaction.objects.filter(kind="commission.reversed").values_list("memo", flat=True))
    assert memos == ["refund €163.75 of ORD-163"]


def test_pages_show_partially_refunded_then_refunded(world, sold):
    conversion, commission = sold
    advertiser, partner = web_client(world.a.advertiser), web_client(world.a.affiliate)
    pages = {
        advertiser: ["/advertiser/conversions/", f"/advertiser/conversions/{conversion.pk}/",
                     "/advertiser/commissions/", "/advertiser/"],
        partner: ["/partner/commissions/"],
    }
    for client, urls in pages.items():
        for url in urls:
            page = client.get(url).content.decode()
            assert ">Partially refunded</span>" not in page and 'data-testid="refund-status"' not in page, url
    _refund(world.a.client("advertiser"), conversion, amount="10.00")
    for client, urls in pages.items():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert ">Partially refunded</span>" in response.content.decode(), url
    listed = advertiser.get("/advertiser/conversions/?refund_status=partial").content.decode()
    assert "ORD-163" in listed
    assert "ORD-163" not in advertiser.get("/advertiser/conversions/?refund_status=full").content.decode()
    _refund(world.a.client("advertiser"), conversion)
    for client, urls in pages.items():
        for url in urls:
            page = client.get(url).content.decode()
            assert ">Refunded</span>" in page and "Partially refunded</span>" not in page, url


def test_the_operators_fraud_queue_shows_the_refund_status(world):
    _, link = program_with_link(world.a)
    click = make_click(link, sub1="fb")
    conversion, [commission] = convert(world.a, link, "order-held", "100", status="held", click_id=click.click_id,
                                       fraud_signals=["too_fast"])
    assert commission.status == "on_hold"
    _refund(world.a.client("advertiser"), conversion, amount="25.00")
    page = web_client(world.a.staff).get("/operator/fraud/").content.decode()
    assert "order-held" in page and ">Partially refunded</span>" in page


def test_a_conversion_with_an_unknown_coupon_shows_it_on_its_page(world, shop):
    body = post_conversion(world.a.client("advertiser"), coupon=TYPED).json()
    page = web_client(world.a.advertiser).get(f"/advertiser/conversions/{body['id']}/").content.decode()
    assert 'data-testid="coupon-sent"' in page and TYPED in page
