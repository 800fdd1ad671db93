"""Stripe webhooks: signed like Stripe signs them; confirmation, failure, reversal after payment, bad signatures."""

import time
from decimal import Decimal

import pytest

from commissions.models import Account, Commission, Transaction
from commissions.services import commissions_reverse_for_refund
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import Payout, PayoutMethod, StripeEvent
from tests.commissions.helpers import assert_ledger_consistent, owed

from .helpers import earn, method
from .stripe_fake import event, signed

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind
URL = "/api/v1/stripe/webhook"


@pytest.fixture
def sent(world, stripe_api):
    """A payout of 30.00 EUR sent to Stripe (processing) and its transfer as Stripe holds it."""
    earn(world.a, "30.00")
    method(world.a.affiliate)
    batch = payout_batch_start(network=world.a.network)
    payout_batch_run(batch_id=batch.pk)
    payout = Payout.objects.get()
    return payout, stripe_api.transfers[payout.provider_reference]


def _post(anon, evt, **kwargs):
    body, signature = signed(evt, **kwargs)
    return anon.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def test_transfer_created_confirms_the_payout(world, anon, sent, emitted, mailoutbox,
                                              django_capture_on_commit_callbacks):
    payout, transfer = sent
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(anon, event("transfer.created", transfer))
    assert response.status_code == 200 and response.json()["result"] == "paid"
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.paid_at is not None and payout.batch.status == "completed"
    assert owed(K.PAYOUTS_CLEARING, world.a.affiliate) == 0 and owed(K.AFFILIATE_PAID, world.a.affiliate) == D("30")
    [emit] = emitted
    assert emit["event"] == "payout.paid" and emit["network_id"] == world.a.network.pk
    assert emit["advertiser_id"] is None and emit["affiliate_id"] == world.a.affiliate.pk
    assert emit["macros"] == {"status": "paid", "payout": "30.00", "currency": "EUR", "amount": "30.00"}
    assert emit["data"]["id"] == payout.pk and emit["data"]["net"] == "30.00"
    assert [m.to for m in mailoutbox] == [[world.a.affiliate.email]]
    assert mailoutbox[0].subject == "Payout sent: €30.00"
    assert_ledger_consistent()


def test_the_same_event_twice_posts_once(world, anon, sent, emitted):
    payout, transfer = sent
    evt = event("transfer.created", transfer, event_id="evt_same")
    assert _post(anon, evt).json()["result"] == "paid"
    assert _post(anon, evt).json()["result"] == "duplicate"
    assert _post(anon, event("transfer.updated", transfer)).json()["result"] == "paid"
    assert Transaction.objects.filter(kind="payout.paid").count() == 1 and len(emitted) == 1


@pytest.mark.parametrize("signature", ["t=1,v1=00", "", "garbage"])
def test_a_bad_signature_is_400_and_changes_nothing(world, anon, sent, signature):
    payout, transfer = sent
    body, _ = signed(event("transfer.created", transfer))
    response = anon.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    assert response.status_code == 400 and "detail" in response.json()
    payout.refresh_from_db()
    assert payout.status == "processing" and not StripeEvent.objects.exists()


def test_a_payload_signed_with_another_secret_or_too_old_is_refused(world, anon, sent):
    payout, transfer = sent
    assert _post(anon, event("transfer.created", transfer), secret="whsec_other").status_code == 400
    assert _post(anon, event("transfer.created", transfer), timestamp=int(time.time()) - 3600).status_code == 400
    payout.refresh_from_db()
    assert payout.status == "processing"


def test_a_reversed_transfer_fails_the_payout_and_returns_the_money(world, anon, sent, emitted):
    payout, transfer = sent
    reversed_transfer = transfer | {"reversed": True, "amount_reversed": transfer["amount"]}
    assert _post(anon, event("transfer.reversed", reversed_transfer)).json()["result"] == "failed"
    payout.refresh_from_db()
    assert payout.status == "failed" and payout.failure_reason == "Stripe transfer.reversed"
    assert Commission.objects.get().status == "approved"
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("30")
    assert [e["event"] for e in emitted] == ["payout.failed"]
    assert_ledger_consistent()


def test_a_partial_reversal_changes_nothing(world, anon, sent):
    payout, transfer = sent
    partial = transfer | {"amount_reversed": 100}
    assert _post(anon, event("transfer.reversed", partial)).json()["result"] == "ignored"
    payout.refresh_from_db()
    assert payout.status == "processing"


def test_reversal_after_payment_undoes_the_settlement(world, anon, sent):
    payout, transfer = sent
    _post(anon, event("transfer.created", transfer))
    _post(anon, event("transfer.reversed", transfer | {"reversed": True, "amount_reversed": transfer["amount"]}))
    payout.refresh_from_db()
    assert payout.status == "failed"
    assert owed(K.AFFILIATE_PAID, world.a.affiliate) == 0 and owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("30")
    assert_ledger_consistent()


def test_failure_after_a_full_refund_keeps_the_commission_reversed(world, anon, sent):
    payout, transfer = sent
    other = earn(world.a, "10.00")  # approved after the batch: not part of this payout
    commission = Commission.objects.get(pk=payout.commission_ids[0])
    commissions_reverse_for_refund(conversion=commission.conversion, amount=D("100"))
    commission.refresh_from_db()
    assert commission.status == "reversed"
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("-20")
    _post(anon, event("transfer.failed", transfer))
    commission.refresh_from_db()
    assert commission.status == "reversed" and Payout.objects.get().status == "failed"
    # 30 back from clearing, 30 refunded: only the new 10.00 is owed.
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("10") and other.status == "approved"
    assert_ledger_consistent()


def test_an_event_before_the_transfer_was_recorded_is_matched_by_metadata(world, anon, stripe_api):
    earn(world.a, "30.00")
    method(world.a.affiliate)
    batch = payout_batch_start(network=world.a.network)
    payout_batch_run(batch_id=batch.pk)
    payout = Payout.objects.get()
    transfer = stripe_api.transfers[payout.provider_reference]
    Payout.objects.filter(pk=payout.pk).update(provider_reference="", status="pending")  # as if not yet recorded
    assert _post(anon, event("transfer.created", transfer)).json()["result"] == "paid"
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.provider_reference == transfer["id"]
    # A forged metadata pointing at another destination is not matched.
    forged = transfer | {"id": "tr_forged", "destination": "acct_attacker"}
    assert _post(anon, event("transfer.reversed", forged | {"reversed": True})).json()["result"] == "unknown"


def test_payout_paid_confirms_and_payout_failed_is_recorded_only(world, anon, sent):
    payout, transfer = sent
    obj = {"id": "po_1", "object": "payout", "amount": 3000, "currency": "eur",
           "metadata": {"payout_id": str(payout.pk), "network_id": str(payout.network_id)}}
    assert _post(anon, event("payout.failed", obj)).json()["result"] == "recorded"
    payout.refresh_from_db()
    assert payout.status == "processing" and payout.provider_status == "payout.failed"
    assert _post(anon, event("payout.paid", obj)).json()["result"] == "paid"
    payout.refresh_from_db()
    assert payout.status == "paid"


def test_account_updated_marks_the_onboarding_done(world, anon, stripe_api):
    method_ = method(world.a.affiliate, stripe_onboarded=False)
    obj = {"id": method_.stripe_account_id, "object": "account", "payouts_enabled": True, "details_submitted": True}
    assert _post(anon, event("account.updated", obj)).json()["result"] == "account"
    assert PayoutMethod.objects.get(pk=method_.pk).stripe_onboarded is True


def test_unrelated_events_are_acknowledged(world, anon, stripe_api):
    response = _post(anon, event("charge.succeeded", {"id": "ch_1", "object": "charge"}))
    assert response.status_code == 200 and response.json()["result"] == "ignored"


def test_the_connect_endpoints_secret_is_accepted_too(world, anon, sent, settings):
    payout, transfer = sent
    settings.STRIPE_WEBHOOK_SECRET = "whsec_platform, whsec_connect"
    assert _post(anon, event("transfer.created", transfer), secret="whsec_other").status_code == 400
    assert _post(anon, event("transfer.created", transfer), secret="whsec_connect").status_code == 200
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert _post(anon, event("transfer.created", transfer), secret="").status_code == 400
