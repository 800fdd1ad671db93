"""Every commission transition notifies: the affiliate's postback and the advertiser's webhooks
(`tracking.outbound.event_emit`, delivered after commit) and an e-mail to the affiliate (a task queued on commit,
through `signals.commission_emails_due`: the tasks import the services, not the other way round).
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from core.money import quantize
from tracking import events as event_types
from tracking.outbound import Event, events_emit

from .models import Commission
from .signals import commission_emails_due


def commission_payload(commission: Commission) -> dict:
    """The webhook body (advertiser endpoints): like the API, the affiliate's payout is left out when the network
    keeps a margin, so the advertiser sees what it owes (`revenue`), never the margin."""
    cur = commission.currency
    payload = {
        "id": commission.pk,
        "status": commission.status,
        "kind": commission.kind,
        "tier": commission.tier,
        "parent": commission.parent_id,
        "adjusts": commission.adjusts_id,
        "program": commission.program_id,
        "affiliate": commission.affiliate_id,
        "conversion": commission.conversion_id,
        "order_id": commission.conversion.order_id if commission.conversion_id else "",
        "currency": cur,
        "amount": str(quantize(commission.amount, cur)),
        "revenue": str(quantize(commission.revenue, cur)),
        "reversed_amount": str(quantize(commission.reversed_amount, cur)),
        "reason": commission.reason,
    }
    if commission.amount != commission.revenue:
        for key in ("amount", "reversed_amount"):
            payload.pop(key)
    return payload


def commission_adjusted_payload(commission: Commission, adjustment: str) -> dict:
    """`commission.adjusted`: `increase` (the commission is the new adjustment, `adjusts` the one it tops up) or
    `decrease` (the commission reduced by a true-down); `change` is by how much, `period` the tier period."""
    payload = commission_payload(commission)
    cur = commission.currency
    snapshot = commission.rule_snapshot or {}
    if adjustment == "increase":
        change = {"amount": str(quantize(commission.amount, cur)), "revenue": str(quantize(commission.revenue, cur))}
    else:
        change = dict(snapshot.get("trued_down") or {})
    if "amount" not in payload:  # the margin stays hidden, as in commission_payload
        change.pop("amount", None)
    trueup = snapshot.get("trueup") or {}
    return payload | {"adjustment": adjustment, "change": change,
                      "period": {"start": trueup.get("period_start"), "end": trueup.get("period_end")}}


def commissions_adjusted_notify(increased: list[Commission], decreased: list[Commission]) -> None:
    """`commission.adjusted` to the advertisers' and operators' webhooks (no postback, no e-mail: the affiliate is
    told by the commission.created / commission.partially_reversed of the same true-up)."""
    by_network: dict[int, list[Event]] = {}
    for adjustment, commissions in (("increase", increased), ("decrease", decreased)):
        for commission in commissions:
            by_network.setdefault(commission.network_id, []).append(Event(
                "commission.adjusted", commission_adjusted_payload(commission, adjustment),
                advertiser_id=commission.advertiser_id))
    for network_id, events in by_network.items():
        events_emit(network_id=network_id, events=events)


def commissions_conversion_adjusted_notify(changes: list[tuple[Commission, Decimal, Decimal]]) -> None:
    """`commission.adjusted` with `adjustment: conversion` for commissions priced again after their conversion was
    corrected: (commission, amount difference, revenue difference), signed."""
    by_network: dict[int, list[Event]] = {}
    for commission, d_amount, d_revenue in changes:
        payload = commission_payload(commission)
        cur = commission.currency
        change = {"amount": str(quantize(d_amount, cur)), "revenue": str(quantize(d_revenue, cur))}
        if "amount" not in payload:  # the margin stays hidden, as in commission_payload
            change.pop("amount")
        by_network.setdefault(commission.network_id, []).append(Event(
            "commission.adjusted", payload | {"adjustment": "conversion", "change": change, "period": None},
            advertiser_id=commission.advertiser_id))
    for network_id, events in by_network.items():
        events_emit(network_id=network_id, events=events)


def postback_macros(commission: Commission) -> dict:
    conversion = commission.conversion
    cur = commission.currency
    macros = {
        "status": commission.status,
        "payout": str(quantize(commission.remaining_amount, cur)),
        "currency": cur,
        "program_id": str(commission.program_id),
        "order_id": conversion.order_id if conversion else "",
        "click_id": conversion.click_id if conversion else "",
        "amount": str(quantize(conversion.amount, conversion.currency)) if conversion else "",
    }
    for n in range(1, 6):
        macros[f"sub{n}"] = getattr(conversion, f"sub{n}") if conversion else ""
    return macros


def commission_notify(commission: Commission, event: str, *, email: bool = True) -> None:
    """Emit `event` (e.g. "commission.approved") to webhooks and the affiliate's postback, and e-mail them."""
    commissions_notify([commission], event, email=email)


def commissions_notify(commissions: list[Commission], event: str, *, email: bool = True) -> None:
    """`commission_notify` for many commissions: one read of each network's endpoints, one e-mail task per network
    (each affiliate gets one e-mail for its commissions of the batch)."""
    by_network: dict[int, list[Event]] = {}
    for commission in commissions:
        by_network.setdefault(commission.network_id, []).append(Event(
            event, commission_payload(commission), advertiser_id=commission.advertiser_id,
            affiliate_id=commission.affiliate_id, macros=postback_macros(commission),
        ))
    for network_id, events in by_network.items():
        events_emit(network_id=network_id, events=events)
    if not email:
        return
    # CPC commissions accrue hourly: an e-mail each would be noise (the dashboard shows them). The e-mail says what
    # the commission was at this transition, even if it changes again before it is sent.
    emails: dict[int, list[list]] = {}
    for c in commissions:
        if c.rollup_id is None:
            emails.setdefault(c.network_id, []).append([c.pk, event, str(c.remaining_amount)])
    for network_id, items in emails.items():
        transaction.on_commit(lambda items=items, network_id=network_id: commission_emails_due.send(
            sender=Commission, items=items, network_id=network_id))


# --- examples for the catalogue of event types (GET /api/v1/webhook-events) -----------------------------------
def _example_commission(**changes) -> Commission:
    conversion = event_types.example_conversion()
    fields = {
        "pk": 8830, "network_id": conversion.network_id, "status": Commission.Status.PENDING,
        "kind": Commission.Kind.SALE, "tier": 1, "program_id": conversion.program_id,
        "advertiser_id": conversion.advertiser_id, "affiliate_id": conversion.affiliate_id, "conversion": conversion,
        "currency": conversion.currency, "base_amount": conversion.amount, "amount": Decimal("12.99"),
        "revenue": Decimal("12.99"), "reversed_amount": Decimal(0), "reason": "",
    }
    return Commission(**(fields | changes))


@event_types.example_register("commission.created")
def _created_example() -> dict:
    return commission_payload(_example_commission())


@event_types.example_register("commission.approved")
def _approved_example() -> dict:
    return commission_payload(_example_commission(status=Commission.Status.APPROVED))


@event_types.example_register("commission.rejected")
def _rejected_example() -> dict:
    return commission_payload(_example_commission(status=Commission.Status.REJECTED, reason="Order cancelled"))


@event_types.example_register("commission.reversed")
def _reversed_example() -> dict:
    return commission_payload(_example_commission(status=Commission.Status.REVERSED, reversed_amount=Decimal("12.99"),
                                                  reason="Refunded"))


@event_types.example_register("commission.adjusted")
def _adjusted_example() -> dict:
    start = event_types.EXAMPLE_TIME.replace(day=1, hour=0, minute=0, second=0)
    trueup = {"period_start": (start - timedelta(days=28)).isoformat(), "period_end": start.isoformat()}
    return commission_adjusted_payload(_example_commission(
        pk=8911, kind=Commission.Kind.ADJUSTMENT, adjusts_id=8830, amount=Decimal("2.60"), revenue=Decimal("2.60"),
        reason="Tier true-up 2026-02: rate 10 -> 12", rule_snapshot={"trueup": trueup}), "increase")
