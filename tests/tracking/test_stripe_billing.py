"""Stripe billing integrations: signed Stripe events become conversions (one-time payments, subscriptions and their
renewals, refunds) through the recording service; the advertiser's CRUD, rotation, disabling and delivery log."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.utils import timezone

from commissions.models import Commission
from tests.reports.test_day_tables_kept import assert_kept
from tracking.models import Conversion, StripeEvent
from tracking.models_stripe import StripeCustomer

from .conversions_support import click_at, make_shop
from .stripe_support import (
    charge,
    checkout_session,
    deliver,
    event,
    invoice,
    signature_header,
    subscription,
)

pytestmark = pytest.mark.django_db
D = Decimal
SECRET = "whsec_test_0123456789abcdef"
API = "/api/v1/integrations/stripe"


@pytest.fixture
def shop(world):
    return make_shop(world.a)


def connect(tenant, program, secret=SECRET) -> dict:
    response = tenant.client("advertiser").post(API, {"program": program.pk, "signing_secret": secret},
                                                format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def integration(world, shop):
    return connect(world.a, shop.program)


@pytest.fixture
def send(integration, django_capture_on_commit_callbacks):
    def send(event_type, obj, **kwargs):
        body = event(event_type, obj, event_id=kwargs.pop("event_id", None))
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(integration["webhook_url"], body, SECRET, **kwargs)
        assert response.status_code == 200, response.content
        return response.json() | {"event_id": body["id"]}

    return send


def commissions_of(conversion_id):
    return list(Commission.objects.filter(conversion_id=conversion_id, tier=1))


def test_the_header_built_here_is_one_stripes_sdk_accepts():
    payload = json.dumps(event("invoice.paid", invoice(customer="cus_1", amount_paid=100)))
    verified = stripe.Webhook.construct_event(payload, signature_header(payload, SECRET), SECRET, tolerance=300)
    assert verified["type"] == "invoice.paid"


def test_a_one_time_checkout_payment_is_one_attributed_sale(world, shop, send):
    click = click_at(shop.link)
    session = checkout_session(mode="payment", amount_total=4990, customer="cus_pay", payment_intent="pi_pay1",
                               client_reference_id=click.click_id)
    answer = send("checkout.session.completed", session)
    conversion = Conversion.objects.get()
    assert answer["result"] == "conversion" and answer["conversion"] == conversion.pk and not answer["duplicate"]
    assert (conversion.order_id, conversion.amount, conversion.currency) == ("pi_pay1", D("49.90"), "EUR")
    assert conversion.attribution == "click" and conversion.affiliate_id == world.a.affiliate.pk
    assert conversion.customer_id == "cus_pay" and conversion.program_id == shop.program.pk
    [commission] = commissions_of(conversion.pk)
    assert commission.amount == D("4.99")


def test_a_click_id_in_metadata_attributes_when_client_reference_id_is_the_merchants_own(world, shop, send):
    click = click_at(shop.link)
    session = checkout_session(mode="payment", amount_total=1000, client_reference_id="order-77",
                               metadata={"click_id": click.click_id})
    send("checkout.session.completed", session)
    conversion = Conversion.objects.get()
    # No payment intent (e.g. a free trial's setup): the session id is the order id.
    assert conversion.order_id == session["id"] and conversion.attribution == "click"


@pytest.mark.parametrize(("months", "paid"), [
    (1, [True, True, False]),  # the first renewal pays, the second pays nothing
    (2, [True, True, True]),  # both renewals fall within the first two months
])
def test_a_subscriptions_first_invoice_is_attributed_by_its_click_and_renewals_by_the_customer(
    world, monkeypatch, months, paid, django_capture_on_commit_callbacks
):
    shop = make_shop(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("20"),
                                      "recurring_months": months}])
    integration = connect(world.a, shop.program)
    click = click_at(shop.link)

    def post(event_type, obj, at=timedelta()):
        real_now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: real_now + at)
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(integration["webhook_url"], event(event_type, obj), SECRET)
        monkeypatch.undo()
        assert response.status_code == 200, response.content
        return response.json()

    session = checkout_session(mode="subscription", amount_total=2500, customer="cus_sub",
                               client_reference_id=click.click_id, subscription="sub_1")
    assert post("checkout.session.completed", session)["result"] == "linked"
    assert Conversion.objects.count() == 0  # the first invoice is the sale
    assert StripeCustomer.objects.get().click_id == click.click_id
    results = [post("invoice.paid", invoice(customer="cus_sub", amount_paid=2500))]
    for number in (1, 2):
        renewal = invoice(customer="cus_sub", amount_paid=2500, billing_reason="subscription_cycle")
        results.append(post("invoice.paid", renewal, at=timedelta(days=31 * number, hours=1)))
    assert [answer["result"] for answer in results] == ["conversion", "renewal", "renewal"]
    conversions = [Conversion.objects.get(pk=answer["conversion"]) for answer in results]
    assert [c.attribution for c in conversions] == ["click", "customer", "customer"]
    assert {c.affiliate_id for c in conversions} == {world.a.affiliate.pk}
    assert {c.customer_id for c in conversions} == {"cus_sub"}
    assert [c.amount for c in conversions] == [D("25.00")] * 3
    assert [bool(commissions_of(c.pk)) for c in conversions] == paid
    assert commissions_of(conversions[0].pk)[0].amount == D("5.00")


def test_a_first_invoice_that_arrives_before_its_checkout_session_takes_the_click_late(world, shop, send):
    click = click_at(shop.link)
    first = invoice(customer="cus_early", amount_paid=5000, subscription="sub_early")
    paid = send("invoice.paid", first)
    conversion = Conversion.objects.get(pk=paid["conversion"])
    assert conversion.attribution == "none" and not commissions_of(conversion.pk)
    linked = send("checkout.session.completed", checkout_session(
        mode="subscription", amount_total=5000, customer="cus_early", client_reference_id=click.click_id,
        subscription="sub_early", invoice_id=first["id"]))
    assert linked["result"] == "linked" and linked["conversion"] == conversion.pk
    conversion.refresh_from_db()
    assert conversion.attribution == "click" and conversion.affiliate_id == world.a.affiliate.pk
    assert conversion.click_id == click.click_id and not conversion.attribution_pending
    assert [c.amount for c in commissions_of(conversion.pk)] == [D("5.00")]
    renewal = send("invoice.paid", invoice(customer="cus_early", amount_paid=5000,
                                           billing_reason="subscription_cycle", subscription="sub_early"))
    assert Conversion.objects.get(pk=renewal["conversion"]).attribution == "customer"
    assert_kept(world.a.network)  # the report's day tables moved the sale to its affiliate


def test_an_invoice_of_a_customer_without_a_click_is_recorded_unattributed(world, shop, send):
    answer = send("invoice.paid", invoice(customer="cus_unknown", amount_paid=900))
    conversion = Conversion.objects.get(pk=answer["conversion"])
    assert conversion.attribution == "none" and conversion.affiliate_id is None
    assert conversion.program_id == shop.program.pk and conversion.customer_id == "cus_unknown"
    listed = world.a.client("advertiser").get("/api/v1/conversions").json()["results"]
    assert [row["id"] for row in listed] == [conversion.pk]


def test_a_zero_invoice_records_no_sale(world, shop, send):
    answer = send("invoice.paid", invoice(customer="cus_trial", amount_paid=0))
    assert answer["result"] == "ignored" and Conversion.objects.count() == 0


def test_partial_then_full_refund_and_a_replay_refunds_nothing_more(world, shop, send):
    click = click_at(shop.link)
    send("checkout.session.completed", checkout_session(
        mode="subscription", amount_total=10000, customer="cus_r", client_reference_id=click.click_id))
    paid = invoice(customer="cus_r", amount_paid=10000, payment_intent="pi_r", charge="ch_r")
    conversion_id = send("invoice.paid", paid)["conversion"]
    [commission] = commissions_of(conversion_id)
    assert commission.amount == D("10.00")

    partial = send("charge.refunded", charge(amount=10000, amount_refunded=3000, customer="cus_r",
                                             invoice_id=paid["id"], payment_intent="pi_r", charge_id="ch_r"))
    assert partial["result"] == "refund" and partial["conversion"] == conversion_id
    conversion = Conversion.objects.get(pk=conversion_id)
    assert conversion.refunded_amount == D("30") and conversion.refund_status == "partial"
    commission.refresh_from_db()
    assert commission.reversed_amount == D("3.00")

    # Newer API versions: no charge.invoice; the payment intent finds the invoice's conversion.
    full_body = charge(amount=10000, amount_refunded=10000, customer="cus_r", payment_intent="pi_r",
                       charge_id="ch_r")
    full = send("charge.refunded", full_body)
    assert full["result"] == "refund"
    conversion.refresh_from_db()
    commission.refresh_from_db()
    assert conversion.refunded_amount == D("100") and conversion.refund_status == "full"
    assert commission.status == "reversed" and commission.reversed_amount == D("10.00")

    replay = send("charge.refunded", full_body, event_id=full["event_id"])
    assert replay["duplicate"] and replay["result"] == "refund"
    again = send("charge.refunded", full_body)  # another event saying the same total: nothing more
    assert again["result"] == "ignored" and not again["duplicate"]
    conversion.refresh_from_db()
    assert conversion.refunded_amount == D("100")
    assert_kept(world.a.network)


def test_a_one_time_payment_is_refunded_by_its_payment_intent(world, shop, send):
    send("checkout.session.completed", checkout_session(mode="payment", amount_total=2000, payment_intent="pi_once"))
    answer = send("charge.refunded", charge(amount=2000, amount_refunded=500, payment_intent="pi_once"))
    assert answer["result"] == "refund"
    assert Conversion.objects.get().refunded_amount == D("5")


def test_a_refund_of_an_unknown_charge_is_recorded_and_changes_nothing(world, shop, send):
    answer = send("charge.refunded", charge(amount=2000, amount_refunded=2000, payment_intent="pi_elsewhere"))
    assert answer["result"] == "ignored" and "No conversion" in answer["error"]


def test_the_same_event_twice_has_one_effect(world, shop, send):
    click = click_at(shop.link)
    session = checkout_session(mode="payment", amount_total=3000, payment_intent="pi_twice",
                               client_reference_id=click.click_id)
    first = send("checkout.session.completed", session, event_id="evt_same")
    second = send("checkout.session.completed", session, event_id="evt_same")
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert second["conversion"] == first["conversion"]
    assert Conversion.objects.count() == 1 and StripeEvent.objects.count() == 1
    assert len(commissions_of(first["conversion"])) == 1


@pytest.mark.parametrize("how", ["bad_signature", "other_secret", "stale", "no_header", "not_json"])
def test_an_unverified_event_answers_400_and_records_nothing(world, shop, integration, how):
    body = event("checkout.session.completed", checkout_session(mode="payment", amount_total=3000))
    url = integration["webhook_url"]
    if how == "bad_signature":
        response = deliver(url, body, SECRET, signature=f"t={int(time.time())},v1={'0' * 64}")
    elif how == "other_secret":
        response = deliver(url, body, "whsec_someone_elses_secret")
    elif how == "stale":
        response = deliver(url, body, SECRET, timestamp=int(time.time()) - 301)
    elif how == "no_header":
        response = deliver(url, body, SECRET, signature="")
    else:
        from rest_framework.test import APIClient

        payload = "not json"
        response = APIClient().post(url, payload, content_type="application/json",
                                    HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET))
    assert response.status_code == 400 and "signature" in response.json()["detail"]
    assert (Conversion.objects.count(), StripeEvent.objects.count(), StripeCustomer.objects.count()) == (0, 0, 0)


def test_an_unknown_token_answers_404(world, shop, integration):
    body = event("invoice.paid", invoice(customer="cus_1", amount_paid=100))
    response = deliver("/api/v1/integrations/stripe/not-a-real-token-at-all/webhook", body, SECRET)
    assert response.status_code == 404 and StripeEvent.objects.count() == 0


def test_a_zero_decimal_currency_takes_stripes_amount_as_whole_yen(world):
    tenant = world.a
    shop = make_shop(tenant, currency="JPY")
    integration = connect(tenant, shop.program)
    click = click_at(shop.link)
    session = checkout_session(mode="payment", amount_total=5000, currency="jpy", payment_intent="pi_yen",
                               client_reference_id=click.click_id)
    response = deliver(integration["webhook_url"], event("checkout.session.completed", session), SECRET)
    assert response.status_code == 200 and response.json()["result"] == "conversion"
    conversion = Conversion.objects.get()
    assert (conversion.amount, conversion.currency) == (D("5000"), "JPY")
    [delivery] = tenant.client("advertiser").get(f"{API}/{integration['id']}/deliveries").json()["results"]
    assert (delivery["amount"], delivery["currency"]) == ("5000", "JPY")


def test_a_currency_the_program_does_not_take_is_logged_as_failed_and_retried_on_resend(world, shop, send):
    body = checkout_session(mode="payment", amount_total=3000, currency="usd", payment_intent="pi_usd")
    answer = send("checkout.session.completed", body, event_id="evt_usd")
    assert answer["result"] == "failed" and "currency" in answer["error"].lower()
    assert Conversion.objects.count() == 0
    again = send("checkout.session.completed", body, event_id="evt_usd")
    assert not again["duplicate"] and again["result"] == "failed"
    assert StripeEvent.objects.count() == 1


def test_unknown_types_and_cancelled_subscriptions_are_recorded_without_money(world, shop, send):
    ignored = send("customer.created", {"id": "cus_new", "object": "customer", "email": "x@example.com"})
    deleted = send("customer.subscription.deleted", subscription(customer="cus_gone"))
    assert (ignored["result"], deleted["result"]) == ("ignored", "recorded")
    assert Conversion.objects.count() == 0
    rows = {row.type: row for row in StripeEvent.objects.all()}
    assert rows["customer.subscription.deleted"].customer_id == "cus_gone"


def test_deliveries_are_listed_newest_first_with_their_result(world, shop, integration, send):
    send("customer.created", {"id": "cus_new", "object": "customer"}, event_id="evt_a")
    send("invoice.paid", invoice(customer="cus_x", amount_paid=1250), event_id="evt_b")
    rows = world.a.client("advertiser").get(f"{API}/{integration['id']}/deliveries").json()["results"]
    assert [(row["event_id"], row["type"], row["result"]) for row in rows] == [
        ("evt_b", "invoice.paid", "conversion"), ("evt_a", "customer.created", "ignored")]
    assert rows[0]["amount"] == "12.50" and rows[0]["currency"] == "EUR" and rows[0]["error"] == ""


# --- the integration's API ---------------------------------------------------------------------------------------
def test_create_answers_a_webhook_url_and_never_the_secret(world, shop):
    client = world.a.client("advertiser")
    created = client.post(API, {"program": shop.program.pk, "signing_secret": SECRET}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["program"] == shop.program.pk and body["is_active"] is True
    assert body["webhook_url"].startswith("http://testserver/api/v1/integrations/stripe/")
    assert body["webhook_url"].endswith("/webhook") and str(body["id"]) not in body["webhook_url"].split("/")
    assert body["signing_secret_hint"] == "whsec_…cdef"
    for response in (created, client.get(API), client.get(f"{API}/{body['id']}")):
        assert SECRET not in response.content.decode()
    assert client.get(API).json()["results"][0]["webhook_url"] == body["webhook_url"]
    assert SECRET not in client.get("/api/schema/").content.decode()


@pytest.mark.parametrize(("body", "field"), [
    ({"program": "absent"}, "program"),
    ({"program": "x", "signing_secret": SECRET}, "program"),
    ({"program": 99999999, "signing_secret": SECRET}, "program"),
    ({"program": None, "signing_secret": SECRET}, "program"),
    ({"signing_secret": "sk_live_notawebhooksecret"}, "signing_secret"),
    ({"signing_secret": "whsec_"}, "signing_secret"),
    ({"signing_secret": ["whsec_x"]}, "signing_secret"),
])
def test_bad_input_is_a_400_on_the_field(world, shop, body, field):
    body = {name: value for name, value in ({"program": shop.program.pk, "signing_secret": SECRET} | body).items()
            if value != "absent"}
    response = world.a.client("advertiser").post(API, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content


def test_another_advertisers_program_is_refused(world, shop):
    from tests.factories import make_advertiser, make_program

    other, issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    response = world.a.client("advertiser").post(
        API, {"program": make_program(other).pk, "signing_secret": SECRET}, format="json")
    assert response.status_code == 400 and "program" in response.json()


def test_another_networks_or_advertisers_integration_answers_404(world, shop, integration):
    from tests.conftest import api_client
    from tests.factories import make_advertiser

    _, issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    for client in (world.b.client("advertiser"), api_client(issued.raw)):
        for method, suffix in [("get", ""), ("get", "/deliveries"), ("post", "/disable"), ("post", "/enable"),
                               ("post", "/rotate-secret"), ("delete", "")]:
            response = getattr(client, method)(f"{API}/{integration['id']}{suffix}",
                                               {"signing_secret": "whsec_another_secret"}, format="json")
            assert response.status_code == 404, (method, suffix, response.status_code)
        assert client.get(API).json()["results"] == []
    other_owner = world.b.client("owner")
    assert other_owner.get(f"{API}/{integration['id']}").status_code == 404
    assert other_owner.get(f"{API}/{integration['id']}/deliveries").status_code == 404
    assert other_owner.get(API).json()["results"] == []
    # The network's operators see it (read only); affiliates do not reach the endpoint at all.
    assert world.a.client("owner").get(f"{API}/{integration['id']}").status_code == 200
    assert world.a.client("owner").post(f"{API}/{integration['id']}/disable").status_code == 403
    assert world.a.client("affiliate").get(API).status_code == 403


def test_rotating_the_secret_refuses_events_signed_with_the_old_one(world, shop, integration):
    client = world.a.client("advertiser")
    new = "whsec_rolled_secret_9876"
    response = client.post(f"{API}/{integration['id']}/rotate-secret", {"signing_secret": new}, format="json")
    assert response.status_code == 200 and new not in response.content.decode()
    assert response.json()["signing_secret_hint"] == "whsec_…9876"
    assert response.json()["webhook_url"] == integration["webhook_url"]
    body = event("invoice.paid", invoice(customer="cus_1", amount_paid=100))
    assert deliver(integration["webhook_url"], body, SECRET).status_code == 400
    assert deliver(integration["webhook_url"], body, new).status_code == 200
    bad = client.post(f"{API}/{integration['id']}/rotate-secret", {"signing_secret": "nope"}, format="json")
    assert bad.status_code == 400 and "signing_secret" in bad.json()


def test_an_integration_created_without_a_secret_refuses_events_until_one_is_set(world, shop):
    client = world.a.client("advertiser")
    created = client.post(API, {"program": shop.program.pk}, format="json")
    assert created.status_code == 201 and created.json()["signing_secret_hint"] == ""
    url = created.json()["webhook_url"]
    body = event("invoice.paid", invoice(customer="cus_1", amount_paid=100))
    assert deliver(url, body, "").status_code == 400
    assert deliver(url, body, SECRET).status_code == 400
    assert StripeEvent.objects.count() == 0
    client.post(f"{API}/{created.json()['id']}/rotate-secret", {"signing_secret": SECRET}, format="json")
    assert deliver(url, body, SECRET).status_code == 200
    assert StripeEvent.objects.count() == 1


def test_a_disabled_integration_answers_404_and_records_nothing_until_enabled(world, shop, integration):
    client = world.a.client("advertiser")
    disabled = client.post(f"{API}/{integration['id']}/disable")
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    body = event("invoice.paid", invoice(customer="cus_1", amount_paid=100))
    assert deliver(integration["webhook_url"], body, SECRET).status_code == 404
    assert StripeEvent.objects.count() == 0
    assert client.post(f"{API}/{integration['id']}/enable").json()["is_active"] is True
    assert deliver(integration["webhook_url"], body, SECRET).status_code == 200
    assert StripeEvent.objects.count() == 1


def test_delete_removes_the_integration_and_its_url(world, shop, integration):
    client = world.a.client("advertiser")
    assert client.delete(f"{API}/{integration['id']}").status_code == 204
    assert client.get(f"{API}/{integration['id']}").status_code == 404
    body = event("invoice.paid", invoice(customer="cus_1", amount_paid=100))
    assert deliver(integration["webhook_url"], body, SECRET).status_code == 404


# --- the integration page ----------------------------------------------------------------------------------------
def test_the_integration_page_connects_stripe_and_shows_its_url_and_events(
    world, web, shop, django_capture_on_commit_callbacks
):
    client = web("a", "advertiser")
    page = client.get("/advertiser/integration/").content.decode()
    assert "Connect Stripe" in page and "client_reference_id" in page
    bad = client.post("/advertiser/integration/stripe", {"program": shop.program.pk, "signing_secret": "sk_nope"})
    assert bad.status_code == 400 and "whsec_" in bad.content.decode()
    response = client.post("/advertiser/integration/stripe", {"program": shop.program.pk})
    assert response.status_code == 302
    integration = world.a.advertiser.stripe_integrations.get()
    page = client.get("/advertiser/integration/").content.decode()
    assert f"/api/v1/integrations/stripe/{integration.token}/webhook" in page and "no secret yet" in page

    client.post(f"/advertiser/integration/stripe/{integration.pk}/secret", {"signing_secret": SECRET})
    integration.refresh_from_db()
    assert integration.signing_secret == SECRET
    with django_capture_on_commit_callbacks(execute=True):
        deliver(f"/api/v1/integrations/stripe/{integration.token}/webhook",
                event("invoice.paid", invoice(customer="cus_page", amount_paid=4990), event_id="evt_page"), SECRET)
    page = client.get("/advertiser/integration/").content.decode()
    assert SECRET not in page and "whsec_…cdef" in page
    assert "evt_page" in page and "€49.90" in page and "Conversion recorded" in page

    client.post(f"/advertiser/integration/stripe/{integration.pk}/disable")
    integration.refresh_from_db()
    assert integration.is_active is False
    client.post(f"/advertiser/integration/stripe/{integration.pk}/delete")
    assert not world.a.advertiser.stripe_integrations.exists()


def test_another_advertisers_or_networks_integration_is_404_on_the_page(world, web, shop, integration):
    from tests.factories import make_advertiser
    from tests.pages import web_client

    rival, _ = make_advertiser(world.a.network, "Rival Shop", "rival@alpha.test")
    for client in (web_client(rival), web("b", "advertiser")):
        for verb in ("disable", "enable", "delete", "secret"):
            response = client.post(f"/advertiser/integration/stripe/{integration['id']}/{verb}",
                                   {"signing_secret": "whsec_taken_over"})
            assert response.status_code == 404
        assert integration["webhook_url"] not in client.get("/advertiser/integration/").content.decode()
    # Their connect form offers only their own programs.
    response = web("b", "advertiser").post("/advertiser/integration/stripe", {"program": shop.program.pk})
    assert response.status_code == 400


def test_an_expanded_customer_object_counts_as_its_id(world, shop, send):
    click = click_at(shop.link)
    session = checkout_session(mode="subscription", amount_total=1000, client_reference_id=click.click_id)
    session["customer"] = {"id": "cus_expanded", "object": "customer", "email": "buyer@example.com"}
    send("checkout.session.completed", session)
    answer = send("invoice.paid", invoice(customer="cus_expanded", amount_paid=1000))
    assert Conversion.objects.get(pk=answer["conversion"]).attribution == "click"


def test_the_admin_lists_integrations_and_events_without_the_secret(world, shop, integration, send):
    from tests.network.test_admin import staff_client

    send("invoice.paid", invoice(customer="cus_admin", amount_paid=100), event_id="evt_admin")
    client = staff_client(world.a.owner.user, superuser=True)
    for model in ("stripeintegration", "stripecustomer", "stripeevent"):
        response = client.get(f"/admin/tracking/{model}/")
        assert response.status_code == 200 and SECRET not in response.content.decode()
    assert "evt_admin" in client.get("/admin/tracking/stripeevent/").content.decode()
    page = client.get(f"/admin/tracking/stripeintegration/{integration['id']}/change/")
    assert page.status_code == 200 and SECRET not in page.content.decode()
