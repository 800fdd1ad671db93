"""A payout's end: paid (provider confirmed / operator marked) or failed (money back to approved), with the
ledger postings, the commissions' state, the audit log and the notifications (webhook, postback, e-mail).

Ledger: paid posts `ledger_payout_settled` (clearing -> paid) and, when the affiliate pays a fee, the fee
(DR affiliate_paid / CR network_revenue) so `affiliate_paid` holds what was really sent. Failed posts
`ledger_payout_failed` (clearing -> approved); a payout already paid whose transfer Stripe reversed first
undoes the settlement (and its fee). Every posting has a key, so a repeated event posts nothing twice.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from commissions import ledger
from commissions.ledger import Line
from commissions.models import Account, Commission
from commissions.services import TransitionError, commission_mark_unpaid
from core.money import quantize
from core.words import Message, english, entry, message
from network.services import audit_log_record
from tracking import events as event_types
from tracking.outbound import event_emit

from .models import Payout, PayoutBatch
from .signals import payout_email_due

Status = Payout.Status
Kind = Account.Kind


# The transitions as a sentence names them ("... it cannot be marked paid"), in the reader's language.
TRANSITION_WORDS = {
    "marked paid": pgettext_lazy("payout transition", "marked paid"),
    "marked failed": pgettext_lazy("payout transition", "marked failed"),
    "put on hold": pgettext_lazy("payout transition", "put on hold"),
    "switched to another method": pgettext_lazy("payout transition", "switched to another method"),
}


class PayoutTransitionError(Exception):
    """An illegal payout transition: the API answers 400 naming the current state."""

    def __init__(self, payout: Payout, verb: str, detail: str = ""):
        from network.i18n import choice_word

        self.status = payout.status
        super().__init__(detail or gettext("Payout %(id)s is %(status)s; it cannot be %(verb)s.") % {
            "id": payout.pk, "status": choice_word(Payout.Status, payout.status),
            "verb": TRANSITION_WORDS.get(verb, verb)})


def payout_payload(payout: Payout) -> dict:
    cur = payout.currency
    return {
        "id": payout.pk, "batch": payout.batch_id, "affiliate": payout.affiliate_id, "status": payout.status,
        "currency": cur, "amount": str(quantize(payout.amount, cur)), "fee": str(quantize(payout.fee, cur)),
        "net": str(quantize(payout.net, cur)), "method": payout.method_kind,
        "provider_reference": payout.provider_reference, "failure_reason": payout.failure_reason,
        "paid_at": payout.paid_at.isoformat() if payout.paid_at else None,
    }


def payout_notify(payout: Payout, event: str) -> None:
    """Operators' webhooks (no advertiser: a payout is not theirs), the affiliate's postback, an e-mail."""
    cur = payout.currency
    event_emit(
        network_id=payout.network_id, event=event, data=payout_payload(payout), advertiser_id=None,
        affiliate_id=payout.affiliate_id,
        macros={"status": payout.status, "payout": str(quantize(payout.net, cur)), "currency": cur,
                "amount": str(quantize(payout.amount, cur))},
    )
    payout_id = payout.pk  # the e-mail task is queued by tasks.py (it imports this module, not the reverse)
    network_id = payout.network_id
    transaction.on_commit(lambda: payout_email_due.send(sender=Payout, payout_id=payout_id, event=event,
                                                        network_id=network_id))


@event_types.example_register("payout.paid")
def _paid_example() -> dict:
    return payout_payload(Payout(
        pk=402, batch_id=37, affiliate_id=77, status=Status.PAID, currency="EUR", amount=Decimal("250.00"),
        fee=Decimal("0.25"), net=Decimal("249.75"), method_kind="stripe_connect", provider_reference="tr_1Pb2c3D4e5F6",
        failure_reason="", paid_at=event_types.EXAMPLE_TIME))


@event_types.example_register("payout.failed")
def _failed_example() -> dict:
    return payout_payload(Payout(
        pk=403, batch_id=37, affiliate_id=78, status=Status.FAILED, currency="EUR", amount=Decimal("120.00"),
        fee=Decimal("0.25"), net=Decimal("119.75"), method_kind="stripe_connect", provider_reference="",
        failure_reason="The destination account cannot receive transfers.", paid_at=None))


def batch_refresh(batch_id: int, actor=None, *, network_id: int) -> None:
    """Progress counters from the payout rows; a batch awaiting confirmations completes when none is open
    (audited with the actor whose mark closed it)."""
    counts = Payout.objects.filter(network_id=network_id, batch_id=batch_id).aggregate(
        total=Count("pk"), done=Count("pk", filter=~Q(status=Status.PENDING)),
        open=Count("pk", filter=Q(status__in=[Status.PENDING, Status.PROCESSING])))
    PayoutBatch.objects.filter(network_id=network_id, pk=batch_id).update(
        total=counts["total"], done=counts["done"], updated_at=timezone.now())
    if counts["open"] == 0:
        completed = PayoutBatch.objects.filter(network_id=network_id, pk=batch_id,
                                               status=PayoutBatch.Status.PROCESSING).update(
            status=PayoutBatch.Status.COMPLETED, completed_at=timezone.now())
        if completed:
            batch = PayoutBatch.objects.select_related("network").get(network_id=network_id, pk=batch_id)
            audit_log_record(network=batch.network, actor=actor, action="payout_batch.completed", target=batch,
                             data={"payouts": counts["total"]})


def reason_set(payout: Payout, reason: str) -> None:
    """Why a payout failed or is held: in English for the API and webhooks, and (a core.words.Message) as its msgid
    for pages and e-mails in the reader's language. Empty clears it."""
    payout.failure_words = [entry(reason if isinstance(reason, Message) else reason[:255])] if reason else []
    payout.failure_reason = english(payout.failure_words)[:255]


def _locked(network, payout: Payout | int) -> Payout:
    pk = payout if isinstance(payout, int) else payout.pk
    return Payout.objects.select_for_update(of=("self",)).select_related("affiliate").get(network=network, pk=pk)


def _fee_lines(payout: Payout) -> list[Line]:
    """The affiliate's fee: DR affiliate_paid / CR network_revenue (nothing when the network pays it)."""
    if payout.fee_paid_by != "affiliate" or not payout.fee:
        return []
    paid = ledger.account_for(network=payout.network_id, currency=payout.currency, kind=Kind.AFFILIATE_PAID,
                              affiliate=payout.affiliate)
    revenue = ledger.account_for(network=payout.network_id, currency=payout.currency, kind=Kind.NETWORK_REVENUE)
    fee = Decimal(payout.fee)
    return [Line(paid, fee), Line(revenue, -fee)]


@transaction.atomic
def payout_mark_paid(*, network, payout: Payout | int, actor=None, reference: str = "", source: str = "operator",
                     provider_status: str = "") -> Payout:
    """processing or on_hold -> paid (pending -> paid only on the provider's word). Paid again: unchanged."""
    payout = _locked(network, payout)
    if payout.status == Status.PAID:
        return payout
    # On hold (not sent: the method could not be used): the operator paid it by hand.
    allowed = (Status.PROCESSING, Status.PENDING) if source == "stripe" else (Status.PROCESSING, Status.ON_HOLD)
    if payout.status not in allowed:
        raise PayoutTransitionError(payout, "marked paid")
    reference = reference.strip()[:120]
    if reference and Payout.objects.filter(network=network, provider_reference=reference).exclude(
            pk=payout.pk).exists():
        raise PayoutTransitionError(payout, "marked paid", gettext(
            "The reference “%(reference)s” belongs to another payout.") % {"reference": reference})
    ledger.ledger_payout_settled(network=network, affiliate=payout.affiliate, currency=payout.currency,
                                 amount=payout.amount, ref=payout, key=f"payout:{payout.pk}:settled")
    fee_lines = _fee_lines(payout)
    if fee_lines:
        ledger.transaction_post(network=network, kind="payout.fee", lines=fee_lines, ref=payout,
                                key=f"payout:{payout.pk}:fee")
    payout.status, payout.paid_at = Status.PAID, timezone.now()
    payout.sent_at = payout.sent_at or payout.paid_at
    if reference and not payout.provider_reference:
        payout.provider_reference = reference
    if provider_status:
        payout.provider_status = provider_status[:60]
    payout.save(update_fields=["status", "paid_at", "sent_at", "provider_reference", "provider_status",
                               "updated_at"])
    audit_log_record(network=network, actor=actor, action="payout.paid", target=payout,
                     data={"source": source, "amount": str(payout.amount), "currency": payout.currency,
                           "reference": payout.provider_reference})
    payout_notify(payout, "payout.paid")
    batch_refresh(payout.batch_id, actor, network_id=payout.network_id)
    return payout


def _unsettle(payout: Payout) -> None:
    """Undo a settlement (a paid transfer the provider reversed): DR affiliate_paid / CR clearing, and the fee."""
    paid = ledger.account_for(network=payout.network_id, currency=payout.currency, kind=Kind.AFFILIATE_PAID,
                              affiliate=payout.affiliate)
    clearing = ledger.account_for(network=payout.network_id, currency=payout.currency, kind=Kind.PAYOUTS_CLEARING,
                                  affiliate=payout.affiliate)
    amount = Decimal(payout.amount)
    lines = [Line(paid, amount), Line(clearing, -amount)]
    lines += [Line(line.account, -line.amount) for line in _fee_lines(payout)]
    ledger.transaction_post(network=payout.network_id, kind="payout.reversed", lines=lines, ref=payout,
                            key=f"payout:{payout.pk}:reversed")


@transaction.atomic
def payout_mark_failed(*, network, payout: Payout | int, reason: str = "", actor=None, source: str = "operator",
                       provider_status: str = "") -> Payout:
    """pending/processing -> failed (paid -> failed only when Stripe reversed the transfer): the money returns to
    the approved balance and the commissions to approved, to be paid by a later batch. Failed again: unchanged."""
    payout = _locked(network, payout)
    if payout.status == Status.FAILED:
        return payout
    if payout.status == Status.PAID and source != "stripe":
        raise PayoutTransitionError(payout, "marked failed")
    if source == "operator" and payout.method_kind == "stripe_connect" and (
            payout.provider_reference or payout.attempted_at):
        # A transfer exists (or may: an attempt's outcome is unknown until the batch is resumed).
        raise PayoutTransitionError(payout, "marked failed", gettext(
            "This payout was sent to Stripe: reverse the transfer in Stripe (its transfer.reversed webhook records "
            "the failure), or resume the batch when Stripe's answer is unknown."))
    if payout.status == Status.PAID:
        _unsettle(payout)
    ledger.ledger_payout_failed(network=network, affiliate=payout.affiliate, currency=payout.currency,
                                amount=payout.amount, ref=payout, key=f"payout:{payout.pk}:failed")
    # A commission refunded in full after it was paid is `reversed` now: its money already left the approved
    # balance through the refund, so it stays reversed (the failure returns the whole payout; the two net out).
    for pk in Commission.objects.for_network(network).filter(
            pk__in=payout.commission_ids, status=Commission.Status.PAID).values_list("pk", flat=True):
        try:
            commission_mark_unpaid(network=network, commission=pk, actor=actor)
        except TransitionError:  # changed concurrently (a refund): the ledger already holds the truth
            continue
    payout.status, payout.failed_at = Status.FAILED, timezone.now()
    reason_set(payout, reason or message(gettext_noop("Failed")))
    if provider_status:
        payout.provider_status = provider_status[:60]
    payout.save(update_fields=["status", "failed_at", "failure_reason", "failure_words", "provider_status",
                               "updated_at"])
    audit_log_record(network=network, actor=actor, action="payout.failed", target=payout,
                     data={"source": source, "reason": payout.failure_reason, "amount": str(payout.amount),
                           "currency": payout.currency})
    payout_notify(payout, "payout.failed")
    batch_refresh(payout.batch_id, actor, network_id=payout.network_id)
    return payout
