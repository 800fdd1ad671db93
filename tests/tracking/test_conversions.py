"""Conversion postback: recording, idempotency, bad input, roles and scoping, refunds, fraud, late clicks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from programs.models import Program
from tests.factories import make_conversion
from tracking import fraud
from tracking.ids import new_click_id
from tracking.member_addresses import member_address_record
from tracking.models import Conversion
from tracking.signals import conversion_recorded, conversion_refunded

from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    return make_shop(world.a, fraud_policy=Program.FraudPolicy.HOLD)


@pytest.fixture
def recorded():
    calls = []

    def receiver(sender, conversion_id, **kwargs):
        calls.append(conversion_id)

    conversion_recorded.connect(receiver, weak=False)
    yield calls
    conversion_recorded.disconnect(receiver)


def test_click_id_attributes_and_copies_sub_ids(world, shop, recorded, django_capture_on_commit_callbacks):
    click = click_at(shop.link, country="DE")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_conversion(world.a.client("advertiser"), click_id=click.click_id,
                                   customer_email="buyer@example.com", items=[{"sku": "TENT", "qty": 1}])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["attribution"] == "click" and body["status"] == "accepted" and body["fraud_signals"] == []
    assert body["affiliate"] == world.a.affiliate.pk and body["program"] == shop.program.pk
    assert body["link"] == shop.link.pk and body["partnership"] == shop.partnership.pk
    assert (body["sub1"], body["sub2"], body["country"]) == ("fb", "summer", "DE")
    assert body["amount"] == "100.00" and body["currency"] == "EUR"
    conversion = Conversion.objects.get(pk=body["id"])
    assert conversion.customer_email_hash == fraud.email_hash("buyer@example.com")
    assert "buyer@example.com" not in str(Conversion.objects.filter(pk=body["id"]).values().first())
    assert recorded == [body["id"]]


def test_same_order_again_answers_200_with_the_same_conversion_and_no_second_hook(
    world, shop, recorded, django_capture_on_commit_callbacks
):
    client = world.a.client("advertiser")
    with django_capture_on_commit_callbacks(execute=True):
        first = post_conversion(client, click_id=click_at(shop.link).click_id)
    with django_capture_on_commit_callbacks(execute=True):
        again = post_conversion(client, amount="100")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Conversion.objects.count() == 1
    assert recorded == [first.json()["id"]]


def test_same_order_with_another_amount_is_409_and_changes_nothing(world, shop):
    client = world.a.client("advertiser")
    first = post_conversion(client).json()
    response = post_conversion(client, amount="90.00")
    assert response.status_code == 409
    assert response.json()["id"] == first["id"] and "different amount" in response.json()["detail"]
    assert Conversion.objects.get().amount == Decimal("100")


def test_the_same_order_id_of_two_advertisers_is_two_conversions(world, shop):
    post_conversion(world.a.client("advertiser"))
    post_conversion(world.b.client("advertiser"))
    assert Conversion.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"click_id": "not-a-click-id"}, "click_id", "Malformed click id"),
        ({"click_id": "8ZZZZZZZZZZZZZZZZZZZZZZZZZ"}, "click_id", "Malformed click id"),
        ({"amount": "ten"}, "amount", "Not a decimal amount"),
        ({"amount": 12.5}, "amount", "floats"),
        ({"amount": "NaN"}, "amount", "Not a decimal amount"),
        ({"amount": "-5.00"}, "amount", "negative"),
        ({"amount": "10.001"}, "amount", "decimal places"),
        ({"currency": "EURO"}, "currency", ""),
        ({"currency": "XYZ"}, "currency", "ISO 4217"),
        ({"program": 999999}, "program", "Unknown program"),
        ({"event": "refund"}, "event", ""),
        ({"order_id": ""}, "order_id", ""),
        ({"customer_email": "not-an-email"}, "customer_email", ""),
    ],
)
def test_bad_input_is_400_with_a_clear_message_and_records_nothing(world, shop, body, field, message):
    response = post_conversion(world.a.client("advertiser"), **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert message in str(response.json()[field])
    assert Conversion.objects.count() == 0


def test_currency_other_than_the_programs_is_400(world, shop):
    response = post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id, currency="USD")
    assert response.status_code == 400
    assert "is in EUR" in str(response.json()["currency"])
    assert Conversion.objects.count() == 0


def test_integer_amounts_and_lower_case_currency_are_accepted_and_leads_need_no_amount(world, shop):
    client = world.a.client("advertiser")
    sale = post_conversion(client, amount=120, currency="eur").json()
    assert (sale["amount"], sale["currency"]) == ("120.00", "EUR")
    lead = post_conversion(client, order_id="LEAD-1", event="lead", amount=None)
    assert lead.status_code == 400  # explicit null is not an amount
    lead = client.post("/api/v1/conversions", {"order_id": "LEAD-1", "event": "lead", "currency": "EUR"},
                       format="json")
    assert lead.status_code == 201 and lead.json()["amount"] == "0.00"


def test_amounts_are_quantized_to_the_currency(world):
    from tests.conftest import make_tenant

    yen = make_tenant("yen", currency="JPY")
    response = post_conversion(yen.client("advertiser"), amount="3300", currency="JPY")
    assert response.json()["amount"] == "3300"
    assert post_conversion(yen.client("advertiser"), order_id="2", amount="33.5", currency="JPY").status_code == 400


@pytest.mark.parametrize("role", ["affiliate", "owner", "staff"])
def test_only_advertisers_post_conversions(world, shop, role):
    assert post_conversion(world.a.client(role)).status_code == 403
    assert Conversion.objects.count() == 0


def test_anonymous_is_401_everywhere(anon, world, shop):
    conversion = make_conversion(world.a.advertiser, order_id="X", amount="10")
    assert post_conversion(anon).status_code == 401
    assert anon.get("/api/v1/conversions").status_code == 401
    assert anon.get(f"/api/v1/conversions/{conversion.pk}").status_code == 401
    assert anon.post(f"/api/v1/conversions/{conversion.pk}/refund", {}, format="json").status_code == 401


def test_list_is_scoped_per_party_and_affiliates_see_no_customer_data(world, shop):
    mine = make_conversion(world.a.advertiser, order_id="A1", amount="10", link=shop.link, customer_id="cust-9")
    unattributed = make_conversion(world.a.advertiser, order_id="A2", amount="10")
    other_affiliate = make_conversion(world.a.advertiser, order_id="A3", amount="10", link=shop.link2)
    b_shop = make_shop(world.b)
    make_conversion(world.b.advertiser, order_id="B1", amount="10", link=b_shop.link)

    def ids(role, tenant=world.a, query=""):
        response = tenant.client(role).get(f"/api/v1/conversions{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}, response.json()["results"]

    assert ids("advertiser")[0] == {mine.pk, unattributed.pk, other_affiliate.pk}
    assert ids("owner")[0] == {mine.pk, unattributed.pk, other_affiliate.pk}
    seen, rows = ids("affiliate")
    assert seen == {mine.pk}
    assert "customer_id" not in rows[0] and "fraud_signals" not in rows[0]
    assert ids("affiliate2")[0] == {other_affiliate.pk}
    assert ids("advertiser", world.b)[0] != set() and mine.pk not in ids("advertiser", world.b)[0]


def test_detail_answers_404_across_networks_and_to_other_affiliates(world, shop):
    conversion = make_conversion(world.a.advertiser, order_id="A1", amount="10", link=shop.link)
    url = f"/api/v1/conversions/{conversion.pk}"
    assert world.a.client("advertiser").get(url).status_code == 200
    assert world.a.client("affiliate").get(url).status_code == 200
    assert world.a.client("affiliate2").get(url).status_code == 404
    for role in ("advertiser", "owner", "affiliate"):
        assert world.b.client(role).get(url).status_code == 404
        assert world.b.client(role).post(f"{url}/refund", {}, format="json").status_code in (403, 404)
    assert world.b.client("advertiser").post(f"{url}/refund", {}, format="json").status_code == 404


def test_list_filters(world, shop):
    held = make_conversion(world.a.advertiser, order_id="H", amount="10", link=shop.link, status="held")
    make_conversion(world.a.advertiser, order_id="N", amount="10")
    client = world.a.client("advertiser")

    def ids(query):
        response = client.get(f"/api/v1/conversions?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=held") == [held.pk]
    assert ids("attribution=click") == [held.pk]
    assert ids(f"affiliate={world.a.affiliate.pk}") == [held.pk]
    assert ids(f"program={shop.program.pk}") == [held.pk]
    assert ids("order_id=N") != [] and held.pk not in ids("order_id=N")
    today = held.created_at.date()
    assert len(ids(f"date_from={today}&date_to={today}")) == 2
    assert ids(f"date_from={today + timedelta(days=1)}") == []
    assert client.get("/api/v1/conversions?date_from=yesterday").status_code == 400


# --- refunds --------------------------------------------------------------------------------------
@pytest.fixture
def refunds():
    calls = []

    def receiver(sender, conversion, amount, **kwargs):
        calls.append((conversion.pk, amount, connection.in_atomic_block))

    conversion_refunded.connect(receiver, weak=False)
    yield calls
    conversion_refunded.disconnect(receiver)


def test_partial_then_remaining_refund(world, shop, refunds):
    conversion = make_conversion(world.a.advertiser, order_id="R", amount="100", link=shop.link)
    client = world.a.client("advertiser")
    url = f"/api/v1/conversions/{conversion.pk}/refund"
    first = client.post(url, {"amount": "30.50"}, format="json")
    assert first.status_code == 200 and first.json()["refunded_amount"] == "30.50"
    rest = client.post(url, {}, format="json")
    assert rest.status_code == 200 and rest.json()["refunded_amount"] == "100.00"
    assert refunds == [(conversion.pk, Decimal("30.50"), True), (conversion.pk, Decimal("69.50"), True)]
    again = client.post(url, {}, format="json")
    assert again.status_code == 400 and "fully refunded" in str(again.json())
    from network.models import AuditLog

    assert AuditLog.objects.filter(action="conversion.refunded", target_id=str(conversion.pk)).count() == 2


@pytest.mark.parametrize(("amount", "message"), [("100.01", "Larger than what remains"), ("0", "more than zero"),
                                                 ("-1", "negative"), ("abc", "Not a decimal"), (1.5, "floats"),
                                                 ("1.001", "decimal places")])
def test_bad_refunds_are_400_and_change_nothing(world, shop, refunds, amount, message):
    conversion = make_conversion(world.a.advertiser, order_id="R", amount="100", link=shop.link)
    response = world.a.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", {"amount": amount},
                                                 format="json")
    assert response.status_code == 400 and message in str(response.json())
    conversion.refresh_from_db()
    assert conversion.refunded_amount == 0 and refunds == []


def test_a_failing_refund_receiver_rolls_the_refund_back(world, shop):
    conversion = make_conversion(world.a.advertiser, order_id="R", amount="100", link=shop.link)

    def broken(sender, **kwargs):
        raise RuntimeError("commission reversal failed")

    conversion_refunded.connect(broken, weak=False)
    try:
        with pytest.raises(RuntimeError):
            world.a.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", {}, format="json")
    finally:
        conversion_refunded.disconnect(broken)
    conversion.refresh_from_db()
    assert conversion.refunded_amount == 0


def test_affiliates_may_not_refund_and_operators_may(world, shop):
    conversion = make_conversion(world.a.advertiser, order_id="R", amount="100", link=shop.link)
    url = f"/api/v1/conversions/{conversion.pk}/refund"
    assert world.a.client("affiliate").post(url, {}, format="json").status_code == 403
    assert world.a.client("staff").post(url, {"amount": "1"}, format="json").status_code == 200


# --- fraud ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("policy", "status"), [("record", "accepted"), ("hold", "held"), ("reject", "rejected")])
def test_too_fast_conversion_follows_the_programs_policy(world, shop, policy, status):
    Program.objects.filter(pk=shop.program.pk).update(fraud_policy=policy)
    click = click_at(shop.link, ago=timedelta(seconds=3))
    body = post_conversion(world.a.client("advertiser"), click_id=click.click_id).json()
    assert body["fraud_signals"] == ["too_fast"] and body["status"] == status
    assert body["attribution"] == "click"


def test_self_referral_by_email_and_by_a_member_address_never_by_the_clicking_visitor(world, shop):
    client = world.a.client("advertiser")
    by_email = post_conversion(client, click_id=click_at(shop.link).click_id,
                               customer_email=world.a.affiliate.email.upper()).json()
    assert by_email["fraud_signals"] == ["self_referral"] and by_email["status"] == "held"
    # The buyer bought from the address they clicked from: the ordinary case, not the affiliate.
    click = click_at(shop.link, ip_hash=fraud.ip_hash("203.0.113.9"))
    visitor = post_conversion(client, order_id="ORD-2", click_id=click.click_id, customer_ip="203.0.113.9").json()
    assert visitor["fraud_signals"] == [] and visitor["status"] == "accepted"
    # The affiliate's member signed in from the buyer's address: that is self-referral.
    member_address_record(membership=world.a.affiliate.membership, ip="198.51.100.44", source="sign_in")
    by_ip = post_conversion(client, order_id="ORD-4", click_id=click_at(shop.link).click_id,
                            customer_ip="198.51.100.44").json()
    assert by_ip["fraud_signals"] == ["self_referral"] and by_ip["status"] == "held"
    clean = post_conversion(client, order_id="ORD-3", click_id=click_at(shop.link).click_id,
                            customer_ip="198.51.100.7", customer_email="someone@else.test").json()
    assert clean["fraud_signals"] == [] and clean["status"] == "accepted"


def test_bot_and_duplicate_clicks_are_flagged(world, shop):
    click = click_at(shop.link, is_bot=True, is_unique=False)
    body = post_conversion(world.a.client("advertiser"), click_id=click.click_id).json()
    assert set(body["fraud_signals"]) == {"bot_click", "duplicate_click"}


def test_duplicate_order_under_a_new_order_id_is_flagged(world, shop):
    client = world.a.client("advertiser")
    first = post_conversion(client, customer_id="c1", click_id=click_at(shop.link).click_id).json()
    second = post_conversion(client, order_id="ORD-2", customer_id="c1", click_id=click_at(shop.link).click_id).json()
    other_amount = post_conversion(client, order_id="ORD-3", customer_id="c1", amount="55.00").json()
    assert first["fraud_signals"] == [] and second["fraud_signals"] == ["duplicate_order"]
    assert second["status"] == "held" and other_amount["fraud_signals"] == []


# --- clicks not ingested yet ----------------------------------------------------------------------
def test_a_click_ingested_after_the_postback_is_attributed_later(
    world, shop, recorded, django_capture_on_commit_callbacks
):
    import time

    from tests.factories import make_click
    from tracking.ids import click_id_time

    click_id = new_click_id(int((time.time() - 60) * 1000))
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_conversion(world.a.client("advertiser"), click_id=click_id, customer_id="c-1",
                                   customer_email="buyer@example.com")
    body = response.json()
    assert response.status_code == 201 and body["attribution"] == "none" and body["attribution_pending"] is True
    make_click(shop.link, click_id=click_id, created_at=click_id_time(click_id), sub1="late")
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    conversion = Conversion.objects.get(pk=body["id"])
    assert (conversion.attribution, conversion.affiliate_id, conversion.sub1) == ("click", world.a.affiliate.pk, "late")
    assert conversion.attribution_pending is False and conversion.fraud_signals == []
    assert recorded == [conversion.pk]


def test_a_click_that_never_arrives_is_settled_by_the_overdue_sweep(
    world, shop, recorded, settings, django_capture_on_commit_callbacks
):
    from tracking.tasks_outbound import conversions_attribute_overdue

    with django_capture_on_commit_callbacks(execute=True):
        body = post_conversion(world.a.client("advertiser"), click_id=new_click_id(), coupon=shop.coupon.code).json()
    assert body["attribution_pending"] is True and recorded == []
    assert conversions_attribute_overdue.delay().result == 0  # still inside the grace period
    settings.CLICK_INGEST_GRACE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert conversions_attribute_overdue.delay().result == 1
    conversion = Conversion.objects.get(pk=body["id"])
    # The click never came: the coupon (next in line) attributes it.
    assert (conversion.attribution, conversion.affiliate_id) == ("coupon", world.a.affiliate2.pk)
    assert conversion.attribution_pending is False
    assert recorded == [conversion.pk]


def test_the_ingester_hook_attributes_conversions_waiting_for_their_clicks(
    world, shop, recorded, django_capture_on_commit_callbacks
):
    import time

    from tests.factories import make_click
    from tracking.ids import click_id_time
    from tracking.services import conversions_attribute_clicks

    click_id = new_click_id(int((time.time() - 30) * 1000))
    with django_capture_on_commit_callbacks(execute=True):
        body = post_conversion(world.a.client("advertiser"), click_id=click_id).json()
    assert body["attribution_pending"] is True
    make_click(shop.link, click_id=click_id, created_at=click_id_time(click_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert conversions_attribute_clicks(network_id=world.b.network.pk, click_ids=[click_id]) == 0
        assert conversions_attribute_clicks(network_id=world.a.network.pk, click_ids=[click_id]) == 1
    conversion = Conversion.objects.get(pk=body["id"])
    assert (conversion.attribution, conversion.affiliate_id) == ("click", world.a.affiliate.pk)
    assert recorded == [conversion.pk]


def test_an_old_click_id_with_no_click_is_unattributed_at_once(
    world, shop, recorded, django_capture_on_commit_callbacks
):
    old = new_click_id(int((shop.program.created_at - timedelta(days=2)).timestamp() * 1000))
    with django_capture_on_commit_callbacks(execute=True):
        body = post_conversion(world.a.client("advertiser"), click_id=old).json()
    assert body["attribution"] == "none" and body["attribution_pending"] is False and body["click_id"] == old
    assert recorded == [body["id"]]


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_duplicate_postbacks_record_one_conversion(world):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from tests.conftest import api_client

    shop = make_shop(world.a)
    click_id = click_at(shop.link).click_id
    calls = []

    def receiver(sender, conversion_id, **kwargs):
        calls.append(conversion_id)

    conversion_recorded.connect(receiver, weak=False)

    def post(_):
        try:
            return post_conversion(api_client(world.a.advertiser_key), order_id="RACE", click_id=click_id)
        finally:
            connections.close_all()

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(post, range(50)))
    finally:
        conversion_recorded.disconnect(receiver)
    codes = sorted(response.status_code for response in responses)
    assert codes == [200] * 49 + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    assert Conversion.objects.filter(order_id="RACE").count() == 1
    assert calls == [responses[0].json()["id"]]
