"""Payouts a batch could not send through their method (Stripe Connect without a Stripe key): put on hold with
the reason, then resolved by the operator (marked paid by hand: `transitions.payout_mark_paid`; failed:
`transitions.payout_mark_failed`; or switched to the affiliate's PayPal/bank method here).

An on-hold payout keeps its money in clearing and does not keep its batch open.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from network.i18n import choice_word
from network.services import audit_log_record

from .models import MethodKind, Payout, PayoutBatch, PayoutMethod
from .transitions import PayoutTransitionError, _locked, batch_refresh, reason_set

MANUAL_KINDS = (MethodKind.PAYPAL, MethodKind.BANK)


@transaction.atomic
def payout_hold(*, network, payout: Payout | int, reason: str, provider_status: str = "", actor=None) -> Payout:
    """pending -> on_hold: not sent, with why. On hold again: unchanged."""
    payout = _locked(network, payout)
    if payout.status == Payout.Status.ON_HOLD:
        return payout
    if payout.status != Payout.Status.PENDING:
        raise PayoutTransitionError(payout, "put on hold")
    payout.status = Payout.Status.ON_HOLD
    reason_set(payout, reason)
    payout.provider_status = provider_status[:60]
    payout.save(update_fields=["status", "failure_reason", "failure_words", "provider_status", "updated_at"])
    audit_log_record(network=network, actor=actor, action="payout.on_hold", target=payout,
                     data={"reason": payout.failure_reason, "amount": str(payout.amount), "currency": payout.currency})
    batch_refresh(payout.batch_id, actor, network_id=payout.network_id)
    return payout


def manual_method_for(payout: Payout) -> PayoutMethod | None:
    """The affiliate's PayPal or bank method an on-hold payout can switch to: its default one, else the oldest."""
    return (PayoutMethod.objects.for_network(payout.network_id).filter(affiliate_id=payout.affiliate_id,
                                                                       kind__in=MANUAL_KINDS)
            .order_by("-is_default", "id").first())


@transaction.atomic
def payout_switch_method(*, network, payout: Payout | int, method: PayoutMethod | int | None = None,
                         actor=None) -> Payout:
    """on_hold -> processing on the affiliate's PayPal or bank method (`method`, or the one `manual_method_for`
    picks): it joins the batch's CSV and waits for the operator's mark; a completed batch waits again."""
    payout = _locked(network, payout)
    if payout.status != Payout.Status.ON_HOLD:
        raise PayoutTransitionError(payout, "switched to another method",
                                    gettext("Payout %(id)s is %(status)s; only a payout on hold can switch method.")
                                    % {"id": payout.pk, "status": choice_word(Payout.Status, payout.status)})
    if method is None:
        target = manual_method_for(payout)
        if target is None:
            raise ValidationError({"method": [gettext("The affiliate has no PayPal or bank method: mark the payout "
                                                      "paid once paid by hand, or failed to return the money.")]})
    else:
        pk = method if isinstance(method, int) else method.pk
        target = PayoutMethod.objects.for_network(network).filter(
            affiliate_id=payout.affiliate_id, kind__in=MANUAL_KINDS, pk=pk).first()
        if target is None:
            raise ValidationError({"method": [gettext("Not a PayPal or bank method of this payout's affiliate.")]})
    old_kind = payout.method_kind
    payout.method, payout.method_kind, payout.method_snapshot = target, target.kind, target.snapshot()
    payout.status, payout.sent_at, payout.provider_status = Payout.Status.PROCESSING, timezone.now(), \
        "awaiting_operator"
    reason_set(payout, "")
    payout.save(update_fields=["method", "method_kind", "method_snapshot", "status", "sent_at", "provider_status",
                               "failure_reason", "failure_words", "updated_at"])
    PayoutBatch.objects.filter(network=network, pk=payout.batch_id, status=PayoutBatch.Status.COMPLETED).update(
        status=PayoutBatch.Status.PROCESSING, completed_at=None, updated_at=timezone.now())
    audit_log_record(network=network, actor=actor, action="payout.method_switched", target=payout,
                     data={"from": old_kind, "to": target.kind, "method": target.pk})
    batch_refresh(payout.batch_id, actor, network_id=payout.network_id)
    return payout
