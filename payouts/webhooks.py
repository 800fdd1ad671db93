"""Stripe webhook events -> payout transitions. Each event id is handled once (Stripe delivers at least once).

transfer.created / transfer.paid / transfer.updated (not reversed)  -> paid (the provider confirmed the transfer)
transfer.reversed (fully) / transfer.failed / transfer.canceled      -> failed, money back to approved
payout.paid (a connected account's payout carrying our payout_id)    -> paid
payout.failed                                                        -> recorded only: the money is in the
                                                                        affiliate's Stripe balance, not ours
account.updated                                                      -> the Express account's onboarding state
A payout is found by the transfer id we recorded, else by the payout_id in the transfer's metadata (an event
may arrive before the run recorded its transfer).
"""

import logging

from django.db import IntegrityError, transaction

from core.words import message

from .models import MethodKind, Payout, StripeEvent
from .providers import stripe_connect
from .services import stripe_account_updated
from .transitions import payout_mark_failed, payout_mark_paid

logger = logging.getLogger(__name__)

CONFIRM = {"transfer.created", "transfer.paid", "transfer.updated"}
FAIL = {"transfer.reversed", "transfer.failed", "transfer.canceled"}


def _network_of_transfer(transfer_id: str) -> int | None:
    """A transfer without our metadata (made by hand in Stripe's dashboard): its payout's network, found by the
    transfer's id across networks."""
    return Payout.objects.filter(provider_reference=transfer_id, method_kind=MethodKind.STRIPE_CONNECT) \
        .values_list("network_id", flat=True).first()


def _payout_for(obj: dict) -> Payout | None:
    transfer_id = obj.get("id", "")
    metadata = obj.get("metadata") or {}
    network_id = str(metadata.get("network_id", ""))
    # Our transfers carry their network and payout in the metadata: read on that network.
    if network_id.isdigit() and len(network_id) < 19:  # a bigint
        rows = Payout.objects.filter(network_id=int(network_id))
    elif transfer_id:
        rows = Payout.objects.filter(network_id=_network_of_transfer(transfer_id))
    else:
        return None
    payout = rows.filter(provider_reference=transfer_id, method_kind=MethodKind.STRIPE_CONNECT).first() \
        if transfer_id else None
    if payout is not None:
        return payout
    raw = str(metadata.get("payout_id", ""))
    if not raw.isdigit() or len(raw) >= 19 or not network_id.isdigit():
        return None
    payout = rows.filter(pk=int(raw), method_kind=MethodKind.STRIPE_CONNECT).first()
    if payout is None:
        return None
    if obj.get("object") == "transfer" and obj.get("destination") != payout.method_snapshot.get("stripe_account_id"):
        return None
    return payout


def _fully_reversed(obj: dict) -> bool:
    return bool(obj.get("reversed")) or (obj.get("amount_reversed") or 0) >= (obj.get("amount") or 1)


def stripe_event_handle(event: dict) -> str:
    """Apply one verified event; returns what happened ("paid", "failed", "ignored", "duplicate", ...)."""
    event_id, kind = event.get("id", ""), event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, type=kind[:80])
        except IntegrityError:
            return "duplicate"
        if kind == "account.updated":
            stripe_account_updated(account_id=obj.get("id", ""), payouts_enabled=bool(obj.get("payouts_enabled")),
                                   details_submitted=bool(obj.get("details_submitted")), account=obj)
            return "account"
        if not (kind.startswith("transfer.") or kind.startswith("payout.")):
            return "ignored"
        payout = _payout_for(obj)
        if payout is None:
            return "unknown"
        record.payout = payout
        record.save(update_fields=["payout"])
        network = payout.network
        if kind in FAIL and (kind != "transfer.reversed" or _fully_reversed(obj)):
            if payout.status == Payout.Status.FAILED:
                return "failed"
            payout_mark_failed(network=network, payout=payout, source="stripe", provider_status=kind,
                               reason=message(stripe_connect.EVENT_REASON, {"event": kind}))
            return "failed"
        if (kind in CONFIRM and not obj.get("reversed")) or kind == "payout.paid":
            if payout.status not in (Payout.Status.PENDING, Payout.Status.PROCESSING):
                return "paid" if payout.status == Payout.Status.PAID else "ignored"
            reference = obj.get("id", "") if kind.startswith("transfer.") else ""
            payout_mark_paid(network=network, payout=payout, reference=reference, source="stripe",
                             provider_status=kind)
            return "paid"
        if kind == "payout.failed":
            Payout.objects.filter(network_id=payout.network_id, pk=payout.pk).update(provider_status=kind)
            logger.warning("Stripe payout failed for payout %s (funds stay in the connected account).", payout.pk)
            return "recorded"
        return "ignored"
