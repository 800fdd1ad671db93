"""Every commission transition notifies: the affiliate's postback and the advertiser's webhooks
(`tracking.outbound.event_emit`, delivered after commit) and an e-mail to the affiliate (a task queued on commit,
through `signals.commission_emails_due`: the tasks import the services, not the other way round).
"""

from django.db import transaction

from core.money import quantize
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
    """`commission_notify` for many commissions: one read of each network's endpoints, one e-mail task."""
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
    emails = [[c.pk, event, str(c.remaining_amount)] for c in commissions if c.rollup_id is None]
    if emails:
        transaction.on_commit(lambda: commission_emails_due.send(sender=Commission, items=emails))
