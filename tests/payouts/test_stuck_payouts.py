"""Payouts that never get stuck: Stripe's idempotency_error, Stripe Connect payouts without a Stripe key (on hold,
resolved by the operator), and the batch CSV negotiated with `Accept: text/csv`."""

from decimal import Decimal

import pytest

from commissions.models import Account, Commission
from network.models import AuditLog
from payouts import batches
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout, PayoutBatch
from tests.commissions.helpers import assert_ledger_consistent, owed
from tests.pages import web_client

from .helpers import earn, method

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind


def _run(tenant) -> PayoutBatch:
    return payout_batch_run(batch_id=payout_batch_start(network=tenant.network).pk)


def _key_used_before(stripe_api, key: str) -> None:
    """Stripe already holds `key` from a request with other parameters (a restored database reused the id)."""
    stripe_api.key_params[key] = ("/v1/transfers", {"amount": "999", "currency": "eur", "destination": "acct_x"})
    stripe_api.by_key[key] = (200, {"id": "tr_someone_else", "object": "transfer"})


# --- idempotency_error -------------------------------------------------------------------------------------------
def test_an_idempotency_error_fails_the_payout_returns_the_money_and_the_next_attempt_uses_a_new_key(
        world, stripe_api, monkeypatch, emitted):
    a = world.a
    commission = earn(a, "30.00")
    method(a.affiliate)

    def seed(name, **context):
        if name == "gather.done":
            for payout in Payout.objects.filter(batch=context["batch"]):
                _key_used_before(stripe_api, payout.reference)

    monkeypatch.setattr(batches, "checkpoint", seed)
    batch = _run(a)
    payout = Payout.objects.get()
    assert batch.status == "completed" and batch.last_error == ""
    assert payout.status == "failed" and payout.provider_status == "idempotency_error"
    assert "idempotency_error" in payout.failure_reason and payout.reference in payout.failure_reason
    assert payout.provider_reference == "" and "tr_someone_else" not in Payout.objects.values_list(
        "provider_reference", flat=True)
    # The amount is back in the approved balance, the commission approved again, the ledger balanced.
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == D("30") and owed(K.PAYOUTS_CLEARING, a.affiliate) == 0
    commission.refresh_from_db()
    assert commission.status == Commission.Status.APPROVED
    assert_ledger_consistent()
    assert [e["event"] for e in emitted] == ["payout.failed"]
    # The failed payout's next attempt has a key of its own.
    assert payout.transfer_attempt == 1 and payout.transfer_idempotency_key != payout.reference
    [refused] = stripe_api.posts()
    assert refused.headers["Idempotency-Key"] == payout.reference
    # Resuming the batch sends nothing again; a new batch is not refused (no batch stays `paying`).
    assert a.client("owner").post(f"/api/v1/payout-batches/{batch.pk}/run").json()["status"] == "completed"
    assert len(stripe_api.posts()) == 1
    monkeypatch.setattr(batches, "checkpoint", lambda name, **context: None)
    response = a.client("owner").post("/api/v1/payout-batches")
    assert response.status_code == 201, response.content
    retry = Payout.objects.exclude(pk=payout.pk).get()
    assert retry.status == "processing" and retry.amount == D("30") and retry.provider_reference.startswith("tr_")
    second = stripe_api.posts()[-1]
    assert second.headers["Idempotency-Key"] not in (refused.headers["Idempotency-Key"],
                                                      payout.transfer_idempotency_key)
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == 0 and owed(K.PAYOUTS_CLEARING, a.affiliate) == D("30")
    assert_ledger_consistent()


def test_an_idempotency_error_when_a_batch_is_resumed_fails_the_payout_instead_of_repeating(world, stripe_api):
    a = world.a
    earn(a, "30.00")
    method(a.affiliate)
    stripe_api.refuse[f"acct_aff{a.affiliate.pk}"] = (500, {"type": "api_error", "message": "Try again later."})
    batch = _run(a)
    payout = Payout.objects.get()
    assert batch.status == "paying" and payout.status == "pending"
    stripe_api.refuse.clear()
    _key_used_before(stripe_api, payout.reference)
    response = a.client("owner").post(f"/api/v1/payout-batches/{batch.pk}/run")
    assert response.status_code == 200 and response.json()["status"] == "completed"
    payout.refresh_from_db()
    assert payout.status == "failed" and payout.provider_status == "idempotency_error"
    # The resumed run looked for the earlier attempt's transfer first, then met the error once.
    assert [(c.method, c.path) for c in stripe_api.calls[-2:]] == [("GET", "/v1/transfers"), ("POST", "/v1/transfers")]
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == D("30")
    assert a.client("owner").post("/api/v1/payout-batches").status_code == 201
    assert_ledger_consistent()


# --- Stripe Connect without a Stripe key ------------------------------------------------------------------------
@pytest.fixture
def on_hold(world, settings):
    """A Stripe Connect payout in each network, run while the platform has no Stripe key."""
    settings.STRIPE_SECRET_KEY = ""
    for tenant in (world.a, world.b):
        earn(tenant, "30.00")
        method(tenant.affiliate)
        _run(tenant)
    return world


def test_without_a_stripe_key_a_stripe_payout_is_refused_with_the_reason_and_the_batch_does_not_wait(on_hold):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    batch = payout.batch
    assert payout.status == "on_hold" and payout.provider_status == "stripe_not_configured"
    assert "STRIPE_SECRET_KEY" in payout.failure_reason and payout.attempted_at is None
    assert batch.status == "completed" and batch.done == batch.total == 1
    # The money waits in clearing for the operator's decision; nothing was sent.
    assert owed(K.PAYOUTS_CLEARING, a.affiliate) == D("30") and owed(K.AFFILIATE_APPROVED, a.affiliate) == 0
    assert AuditLog.objects.filter(network=a.network, action="payout.on_hold").count() == 1
    body = a.client("owner").get(f"/api/v1/payouts/{payout.pk}").json()
    assert body["status"] == "on_hold" and "STRIPE_SECRET_KEY" in body["failure_reason"]
    assert a.client("owner").get("/api/v1/payouts?status=on_hold").json()["count"] == 1
    assert a.client("owner").get(f"/api/v1/payout-batches/{batch.pk}").json()["counts"]["on_hold"] == 1
    # A new batch is not blocked.
    assert a.client("owner").post("/api/v1/payout-batches").status_code == 201
    assert_ledger_consistent()


def test_the_operator_marks_an_on_hold_payout_paid_by_hand(on_hold, emitted):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    response = a.client("owner").post(f"/api/v1/payouts/{payout.pk}/mark-paid", {"reference": "wire-42"},
                                      format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid" and response.json()["provider_reference"] == "wire-42"
    assert owed(K.AFFILIATE_PAID, a.affiliate) == D("30") and owed(K.PAYOUTS_CLEARING, a.affiliate) == 0
    assert [e["event"] for e in emitted] == ["payout.paid"]
    assert_ledger_consistent()


def test_the_operator_switches_an_on_hold_payout_to_the_affiliates_bank_method(on_hold):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    bank = method(a.affiliate, MethodKind.BANK)
    client = a.client("owner")
    response = client.post(f"/api/v1/payouts/{payout.pk}/switch-method", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "processing" and body["method_kind"] == "bank" and body["failure_reason"] == ""
    assert body["method_snapshot"]["bank_account"] == bank.bank_account
    batch = PayoutBatch.objects.get(pk=payout.batch_id)
    assert batch.status == "processing" and batch.completed_at is None  # waits for the operator's mark again
    csv = client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank", HTTP_ACCEPT="text/csv")
    assert csv.status_code == 200 and payout.reference in csv.content.decode()
    assert client.post(f"/api/v1/payouts/{payout.pk}/mark-paid", {}, format="json").status_code == 200
    batch.refresh_from_db()
    assert batch.status == "completed"
    assert owed(K.AFFILIATE_PAID, a.affiliate) == D("30")
    assert_ledger_consistent()


def test_switching_needs_a_paypal_or_bank_method_and_an_on_hold_payout(on_hold):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    client = a.client("owner")
    response = client.post(f"/api/v1/payouts/{payout.pk}/switch-method", {}, format="json")
    assert response.status_code == 400 and "method" in response.json()
    foreign = method(on_hold.b.affiliate, MethodKind.PAYPAL)
    response = client.post(f"/api/v1/payouts/{payout.pk}/switch-method", {"method": foreign.pk}, format="json")
    assert response.status_code == 400 and "method" in response.json()
    assert client.post(f"/api/v1/payouts/{payout.pk}/switch-method", {"method": "x"},
                       format="json").status_code == 400
    assert Payout.objects.get(pk=payout.pk).status == "on_hold"
    # The other network's payout answers 404; an affiliate may not switch.
    other = Payout.objects.get(network=on_hold.b.network)
    assert client.post(f"/api/v1/payouts/{other.pk}/switch-method", {}, format="json").status_code == 404
    assert client.post(f"/api/v1/payouts/{other.pk}/mark-paid", {}, format="json").status_code == 404
    assert a.client("affiliate").post(f"/api/v1/payouts/{payout.pk}/switch-method", {},
                                      format="json").status_code == 403
    # A processing payout does not switch.
    method(a.affiliate, MethodKind.PAYPAL)
    client.post(f"/api/v1/payouts/{payout.pk}/switch-method", {}, format="json")
    response = client.post(f"/api/v1/payouts/{payout.pk}/switch-method", {}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "processing"


def test_the_operator_fails_an_on_hold_payout_and_the_money_returns(on_hold):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    response = a.client("owner").post(f"/api/v1/payouts/{payout.pk}/mark-failed", {"reason": "no Stripe"},
                                      format="json")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == D("30") and owed(K.PAYOUTS_CLEARING, a.affiliate) == 0
    assert_ledger_consistent()


def test_the_operator_pages_show_why_and_offer_the_actions(on_hold):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    method(a.affiliate, MethodKind.PAYPAL)
    client = web_client(a.owner)
    page = client.get(f"/operator/payouts/batches/{payout.batch_id}/").content.decode()
    assert "STRIPE_SECRET_KEY" in page and "Mark as paid manually" in page and "Switch to manual method" in page
    assert "1 payout was not sent and is on hold" in page
    overview = client.get("/operator/payouts/?status=on_hold").content.decode()
    assert f"payout-{payout.pk}" in overview
    response = client.post(f"/operator/payouts/{payout.pk}/switch-method", {"in_batch": "1"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "PayPal" in response.content.decode()
    assert Payout.objects.get(pk=payout.pk).method_kind == "paypal"
    other = Payout.objects.get(network=on_hold.b.network)
    assert client.post(f"/operator/payouts/{other.pk}/switch-method").status_code == 404
    assert Payout.objects.get(pk=other.pk).status == "on_hold"


# --- the batch CSV and content negotiation ----------------------------------------------------------------------
@pytest.fixture
def bank_batches(world, settings):
    settings.STRIPE_SECRET_KEY = ""
    out = {}
    for name, tenant in (("a", world.a), ("b", world.b)):
        earn(tenant, "30.00")
        method(tenant.affiliate, MethodKind.BANK)
        out[name] = _run(tenant)
    return out


def test_the_batch_csv_answers_accept_text_csv(world, bank_batches):
    batch = bank_batches["a"]
    client = world.a.client("owner")
    response = client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "holder,iban,bic,country,amount,currency,reference" and len(lines) == 2
    assert client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank&format=csv").status_code == 200
    assert client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank").status_code == 200


def test_the_batch_csv_errors_are_json_and_another_networks_batch_is_404(world, bank_batches):
    client = world.a.client("owner")
    response = client.get(f"/api/v1/payout-batches/{bank_batches['a'].pk}/csv?method=cash", HTTP_ACCEPT="text/csv")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert "method" in response.json()
    response = client.get(f"/api/v1/payout-batches/{bank_batches['b'].pk}/csv?method=bank", HTTP_ACCEPT="text/csv")
    assert response.status_code == 404 and response.json()["detail"]
    response = client.get(f"/api/v1/payout-batches/{bank_batches['a'].pk}/csv?method=bank&format=xml")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    response = world.a.client("affiliate").get(f"/api/v1/payout-batches/{bank_batches['a'].pk}/csv?method=bank",
                                               HTTP_ACCEPT="text/csv")
    assert response.status_code == 403 and "detail" in response.json()


def test_the_schema_documents_the_csv_media_type(anon):
    schema = anon.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/payout-batches/{id}/csv/"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert "application/json" in operation["responses"]["400"]["content"]


def test_a_key_removed_while_a_transfer_was_in_flight_keeps_the_payout_pending(world, stripe_api, settings):
    # The first attempt's outcome is unknown: only Stripe can tell, so the payout is not put on hold (where it
    # could be marked paid by hand and paid twice); the batch says why and resumes once the key is back.
    a = world.a
    earn(a, "30.00")
    method(a.affiliate)
    stripe_api.refuse[f"acct_aff{a.affiliate.pk}"] = (500, {"type": "api_error", "message": "Try again later."})
    batch = _run(a)
    settings.STRIPE_SECRET_KEY = ""
    batch = payout_batch_run(batch_id=batch.pk)
    payout = Payout.objects.get()
    assert batch.status == "paying" and "STRIPE_SECRET_KEY" in batch.last_error and payout.status == "pending"
    settings.STRIPE_SECRET_KEY = "sk_test_payouts"
    stripe_api.refuse.clear()
    assert payout_batch_run(batch_id=batch.pk).status == "processing"
    assert len(stripe_api.transfers) == 1


def test_switching_without_htmx_redirects_to_the_batch_with_a_message(on_hold):
    a = on_hold.a
    payout = Payout.objects.get(network=a.network)
    client = web_client(a.owner)
    response = client.post(f"/operator/payouts/{payout.pk}/switch-method", follow=True)
    assert response.status_code == 200 and "no PayPal or bank method" in response.content.decode()
    assert Payout.objects.get(pk=payout.pk).status == "on_hold"
    method(a.affiliate, MethodKind.BANK)
    response = client.post(f"/operator/payouts/{payout.pk}/switch-method", follow=True)
    assert f"Payout #{payout.pk} switched to Bank transfer." in response.content.decode()
    assert Payout.objects.get(pk=payout.pk).status == "processing"
