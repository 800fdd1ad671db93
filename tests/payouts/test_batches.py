"""Payout batches: thresholds, skips, fees, minor units, netting, Stripe transfers as sent, crash and re-run."""

from decimal import Decimal

import pytest

from commissions.models import Account, Commission
from commissions.services import commissions_reverse_for_refund
from payouts import batches
from payouts.batches import BatchRunning, payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout, PayoutBatch
from payouts.transitions import payout_mark_paid
from tests.commissions.helpers import assert_ledger_consistent, owed

from .helpers import earn, method

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind


def _settings(network, **data):
    network.payout_settings = data
    network.save(update_fields=["payout_settings"])


def _run(tenant) -> PayoutBatch:
    batch = payout_batch_start(network=tenant.network)
    return payout_batch_run(batch_id=batch.pk)


def test_batch_transfers_each_balance_over_the_threshold_once(world, stripe_api, emitted):
    a = world.a
    _settings(a.network, thresholds={"EUR": "25.00"})
    c1, c2 = earn(a, "30.00"), earn(a, "20.00")
    earn(a, "20.00", affiliate=a.affiliate2)  # below the threshold: carried over
    method(a.affiliate)
    method(a.affiliate2, MethodKind.PAYPAL)
    response = a.client("owner").post("/api/v1/payout-batches")
    assert response.status_code == 201, response.content
    body = response.json()
    [payout] = Payout.objects.all()
    assert body["status"] == "processing" and body["total"] == 1 and body["done"] == 1
    assert body["skipped"] == [{"affiliate": a.affiliate2.pk, "currency": "EUR", "amount": "20.00",
                                "reason": "below_threshold"}]
    [call] = stripe_api.posts()
    assert call.params == {
        "amount": "5000", "currency": "eur", "destination": f"acct_aff{a.affiliate.pk}",
        "transfer_group": f"payout-{payout.pk}", "description": f"Payout {payout.pk} (batch {payout.batch_id})",
        "metadata[payout_id]": str(payout.pk), "metadata[batch_id]": str(payout.batch_id),
        "metadata[network_id]": str(a.network.pk), "metadata[affiliate_id]": str(a.affiliate.pk),
    }
    assert call.headers["Idempotency-Key"] == f"payout-{payout.pk}"
    assert call.headers["Authorization"] == "Bearer sk_test_payouts"
    assert payout.status == "processing" and payout.amount == D("50") and payout.provider_reference.startswith("tr_")
    assert sorted(payout.commission_ids) == sorted([c1.pk, c2.pk])
    assert set(Commission.objects.filter(pk__in=[c1.pk, c2.pk]).values_list("status", flat=True)) == {"paid"}
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == 0 and owed(K.PAYOUTS_CLEARING, a.affiliate) == D("50")
    assert owed(K.AFFILIATE_APPROVED, a.affiliate2) == D("20")
    assert emitted == []  # nothing is paid until Stripe confirms
    assert_ledger_consistent()


@pytest.mark.parametrize(("currency", "amount", "minor"), [("JPY", "1235", "1235"), ("KWD", "1.235", "1235"),
                                                           ("USD", "12.34", "1234")])
def test_transfer_amounts_are_minor_units_of_the_currency(world, stripe_api, currency, amount, minor):
    earn(world.a, amount, currency=currency)
    method(world.a.affiliate)
    _run(world.a)
    [call] = stripe_api.posts()
    assert call.params["amount"] == minor and call.params["currency"] == currency.lower()
    assert Payout.objects.get().amount == D(amount)


def test_an_affiliate_without_a_method_is_skipped_and_keeps_its_money(world, stripe_api):
    earn(world.a, "40.00")
    batch = _run(world.a)
    assert batch.status == "completed" and batch.total == 0
    assert batch.skipped == [{"affiliate": world.a.affiliate.pk, "currency": "EUR", "amount": "40.00",
                              "reason": "no_method"}]
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("40")
    assert Commission.objects.get().status == "approved" and stripe_api.calls == []


def test_an_unfinished_stripe_onboarding_is_skipped(world, stripe_api):
    earn(world.a, "40.00")
    method(world.a.affiliate, stripe_onboarded=False)
    batch = _run(world.a)
    assert batch.skipped[0]["reason"] == "method_incomplete" and not Payout.objects.exists()


def test_other_networks_are_not_paid(world, stripe_api):
    earn(world.b, "40.00")
    method(world.b.affiliate)
    batch = _run(world.a)
    assert batch.total == 0 and batch.skipped == [] and stripe_api.calls == []


def test_percent_fee_paid_by_the_affiliate_is_deducted_and_earned_by_the_network(world, stripe_api):
    a = world.a
    _settings(a.network, fee={"kind": "percent", "percent": "2.5", "paid_by": "affiliate"})
    earn(a, "50.00")
    method(a.affiliate)
    _run(a)
    payout = Payout.objects.get()
    assert (payout.amount, payout.fee, payout.net) == (D("50"), D("1.25"), D("48.75"))
    assert stripe_api.posts()[0].params["amount"] == "4875"
    revenue_before = -Account.objects.get(kind=K.NETWORK_REVENUE, network=a.network).balance
    payout_mark_paid(network=a.network, payout=payout, source="stripe")
    assert owed(K.AFFILIATE_PAID, a.affiliate) == D("48.75")
    assert -Account.objects.get(kind=K.NETWORK_REVENUE, network=a.network).balance == revenue_before + D("1.25")
    assert_ledger_consistent()


def test_flat_fee_paid_by_the_network_sends_the_whole_amount(world, stripe_api):
    _settings(world.a.network, fee={"kind": "flat", "flat": {"EUR": "1.00"}, "paid_by": "network"})
    earn(world.a, "50.00")
    method(world.a.affiliate)
    _run(world.a)
    payout = Payout.objects.get()
    assert (payout.fee, payout.net) == (D("1.00"), D("50"))
    assert stripe_api.posts()[0].params["amount"] == "5000"


def test_a_refund_after_payout_is_netted_by_the_next_batches(world, stripe_api):
    a = world.a
    first = earn(a, "50.00")
    method(a.affiliate)
    _run(a)
    payout_mark_paid(network=a.network, payout=Payout.objects.get(), source="stripe")
    # The paid order is refunded in full: the approved balance goes 50 below zero.
    commissions_reverse_for_refund(conversion=first.conversion, amount=D("100"))
    earn(a, "30.00")
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == D("-20")
    second = _run(a)
    assert second.total == 0 and second.skipped[0]["reason"] == "negative_balance"
    earn(a, "45.00")
    third = _run(a)
    payout = third.payouts.get()
    assert payout.amount == D("25") and stripe_api.posts()[-1].params["amount"] == "2500"
    assert Commission.objects.filter(status="approved").count() == 0  # both netted commissions are paid
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == 0
    assert_ledger_consistent()


def test_a_second_batch_is_refused_while_one_runs(world, stripe_api):
    running = payout_batch_start(network=world.a.network)
    with pytest.raises(BatchRunning):
        payout_batch_start(network=world.a.network)
    response = world.a.client("staff").post("/api/v1/payout-batches")
    assert response.status_code == 409 and response.json()["batch"] == running.pk
    payout_batch_start(network=world.b.network)  # another network is not blocked
    payout_batch_run(batch_id=running.pk)
    assert world.a.client("staff").post("/api/v1/payout-batches").status_code == 201


STEPS = ["gather.payout", "gather.done", "pay.attempt_recorded", "pay.transferred", "pay.payout"]


@pytest.mark.parametrize("step", STEPS)
def test_a_batch_killed_at_any_step_and_run_again_pays_everyone_exactly_once(world, stripe_api, monkeypatch, step):
    a = world.a
    earn(a, "30.00")
    earn(a, "12.50", affiliate=a.affiliate2)
    earn(a, "700", affiliate=a.affiliate2, currency="JPY")
    method(a.affiliate)
    method(a.affiliate2)
    hits = []

    def crash(name, **context):
        hits.append(name)
        if name == step and hits.count(step) == 2:  # dies at the second time it passes this boundary
            raise SystemExit(f"killed at {step}")
        if name == step and step == "gather.done":
            raise SystemExit("killed after gathering")

    monkeypatch.setattr(batches, "checkpoint", crash)
    batch = payout_batch_start(network=a.network)
    with pytest.raises(SystemExit):
        payout_batch_run(batch_id=batch.pk)
    monkeypatch.setattr(batches, "checkpoint", lambda name, **context: None)
    batch = payout_batch_run(batch_id=batch.pk)
    assert batch.status == "processing" and batch.total == batch.done == 3
    payouts = list(Payout.objects.order_by("pk"))
    assert [(p.affiliate_id, p.currency, p.amount) for p in payouts] == [
        (a.affiliate.pk, "EUR", D("30")), (a.affiliate2.pk, "EUR", D("12.5")), (a.affiliate2.pk, "JPY", D("700"))]
    creates = stripe_api.posts()
    assert sorted(c.headers["Idempotency-Key"] for c in creates) == sorted(p.reference for p in payouts)
    assert len(stripe_api.transfers) == 3
    assert {p.provider_reference for p in payouts} == set(stripe_api.transfers)
    assert all(p.status == "processing" for p in payouts)
    assert not Commission.objects.exclude(status="paid").exists()
    for affiliate in (a.affiliate, a.affiliate2):
        assert owed(K.AFFILIATE_APPROVED, affiliate) == 0
    assert owed(K.PAYOUTS_CLEARING, a.affiliate2, "JPY") == D("700")
    assert_ledger_consistent()
    # And a third run changes nothing.
    payout_batch_run(batch_id=batch.pk)
    assert len(stripe_api.posts()) == 3 and Payout.objects.count() == 3


def test_a_stripe_refusal_fails_the_payout_and_returns_the_money(world, stripe_api, emitted, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    a = world.a
    commission = earn(a, "30.00")
    method(a.affiliate)
    stripe_api.refuse[f"acct_aff{a.affiliate.pk}"] = (400, {
        "type": "invalid_request_error", "code": "balance_insufficient",
        "message": "You have insufficient available funds in your Stripe account."})
    with django_capture_on_commit_callbacks(execute=True):
        batch = _run(a)
    payout = Payout.objects.get()
    assert payout.status == "failed" and "insufficient" in payout.failure_reason
    assert payout.provider_status == "balance_insufficient"
    assert batch.status == "completed"
    commission.refresh_from_db()
    assert commission.status == "approved" and commission.paid_at is None
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == D("30") and owed(K.PAYOUTS_CLEARING, a.affiliate) == 0
    assert [e["event"] for e in emitted] == ["payout.failed"]
    assert [m.to for m in mailoutbox] == [[a.affiliate.email]] and "failed" in mailoutbox[0].subject.lower()
    assert_ledger_consistent()
    # The next batch pays it again.
    stripe_api.refuse.clear()
    _run(a)
    assert Payout.objects.filter(status="processing", amount=D("30")).count() == 1


def test_stripe_unavailable_keeps_the_payout_pending_until_the_batch_is_resumed(world, stripe_api):
    a = world.a
    earn(a, "30.00")
    method(a.affiliate)
    stripe_api.refuse[f"acct_aff{a.affiliate.pk}"] = (500, {"type": "api_error", "message": "Try again later."})
    batch = _run(a)
    payout = Payout.objects.get()
    assert batch.status == "paying" and "APIError" in batch.last_error
    assert payout.status == "pending" and payout.attempted_at is not None
    assert owed(K.PAYOUTS_CLEARING, a.affiliate) == D("30")
    assert a.client("owner").post("/api/v1/payout-batches").status_code == 409
    # The outcome is unknown: nobody may declare it failed (the money would be paid twice).
    assert a.client("owner").post(f"/api/v1/payouts/{payout.pk}/mark-failed").status_code == 400
    stripe_api.refuse.clear()
    response = a.client("owner").post(f"/api/v1/payout-batches/{batch.pk}/run")
    assert response.status_code == 200 and response.json()["status"] == "processing"
    # The resumed run asked Stripe for the earlier attempt's transfer before creating one.
    assert [(c.method, c.path) for c in stripe_api.calls[-2:]] == [("GET", "/v1/transfers"), ("POST", "/v1/transfers")]
    assert stripe_api.calls[-2].params["transfer_group"] == payout.reference
    assert len(stripe_api.transfers) == 1
    assert_ledger_consistent()


def test_without_a_stripe_key_stripe_payouts_are_refused_and_put_on_hold_for_the_operator(world, settings):
    # Not "processing" with nothing to do: refused with the reason; the batch does not wait for it
    # (the operator's actions: tests/payouts/test_stuck_payouts.py).
    settings.STRIPE_SECRET_KEY = ""
    earn(world.a, "30.00")
    method(world.a.affiliate)
    batch = _run(world.a)
    payout = Payout.objects.get()
    assert batch.status == "completed" and payout.status == "on_hold"
    assert payout.provider_status == "stripe_not_configured" and "STRIPE_SECRET_KEY" in payout.failure_reason


def test_the_api_base_setting_sends_transfers_to_a_stand_in_and_the_default_is_stripe(world, stripe_api, settings):
    import responses

    settings.STRIPE_API_BASE = "http://stripe-stand-in.test:12111"
    stripe_api.rsps.add_callback(responses.POST, "http://stripe-stand-in.test:12111/v1/transfers",
                                 callback=stripe_api._transfer_create)
    earn(world.a, "30.00")
    method(world.a.affiliate)
    _run(world.a)
    [sent] = Payout.objects.all()
    assert sent.status == "processing" and sent.provider_reference in stripe_api.transfers
    [call] = stripe_api.rsps.calls
    assert call.request.url == "http://stripe-stand-in.test:12111/v1/transfers"

    settings.STRIPE_API_BASE = "https://api.stripe.com"
    earn(world.a, "40.00")
    _run(world.a)
    assert stripe_api.rsps.calls[-1].request.url == "https://api.stripe.com/v1/transfers"
    assert len(stripe_api.posts()) == 2


def test_a_suspended_affiliate_is_skipped(world, stripe_api):
    from network.models import PartyStatus
    from network.services import party_set_status

    earn(world.a, "40.00")
    method(world.a.affiliate)
    party_set_status(network=world.a.network, party=world.a.affiliate, status=PartyStatus.SUSPENDED, actor=None)
    batch = _run(world.a)
    assert batch.skipped[0]["reason"] == "affiliate_suspended" and stripe_api.calls == []
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("40")
