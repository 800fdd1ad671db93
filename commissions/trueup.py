"""The tier true-up: when a tier period closes, every commission of the period is brought to the rate the
affiliate reached for the whole period; and how refunds then reverse a commission together with its adjustment.

A commission paid less than the rate reached gets an adjustment commission (kind `adjustment`, `adjusts` = the
commission, same conversion and tier) for the difference; it has its own amount, revenue (when the rule's revenue
follows the payout), ledger posting, status (it follows the commission's decisions) and notifications.

A commission paid more than the rate reached (conversions counted when it was computed were rejected or refunded
later in the period) is *reduced*: the difference is reversed on the commission itself, like a partial refund
(ledger `commission.trued_down`, recorded in its snapshot as `trued_down`). Amounts stay non-negative
(`commission_amounts_not_negative`), and every sum of `amount - reversed_amount` (reports, balances) stays right.

Refunds and rejections after the true-up: a refund of x % of the order reverses x % of what the commission and its
adjustment pay together (the pair is reversed as one commission, so no cent drifts); a rejection rejects both.
Idempotent: one true-up per (program, affiliate, event, period) (`TierTrueUp`), one adjustment per commission,
and keyed ledger postings.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.money import quantize
from core.words import TRUEUP_REASON
from network.models import Affiliate, Network
from network.services import audit_log_record
from programs.models import CommissionRule, Program, tier_rate

from . import ledger, services
from .daily import commissions_kept
from .models import Commission, TierTrueUp
from .notifications import commissions_adjusted_notify
from .reversals import rebased_targets, reversal_targets
from .rules import commission_amounts, plain, second_tier_amount, tier_period_bounds, tier_progress

logger = logging.getLogger(__name__)
Status = Commission.Status
ZERO = Decimal(0)
# Snapshot entries of a commission that are not its adjustment's (its reduction, refund rebase, corrections, re-trues).
OWN_RECORDS = ("trued_down", "refund_rebase", "conversion_adjustments", "retrued")
# A period is trued up this long after it closed, so commissions of its last minutes are computed first.
TRUEUP_GRACE = timedelta(hours=1)


def _reverse_to_targets(commission: Commission, *, original: Commission | None, kind: str, key: str) -> None:
    """Bring a commission's reversed amounts up to `reversal_targets` for its refunds so far (after a true-up)."""
    base = Decimal(commission.conversion.amount)
    raw = reversal_targets(commission, refunded=commission.refunded_base, base=base, original=original)
    target_amount, target_revenue = rebased_targets(commission, refunded=commission.refunded_base, base=base, raw=raw)
    d_amount = max(target_amount - commission.reversed_amount, ZERO)
    d_revenue = max(target_revenue - commission.reversed_revenue, ZERO)
    if not d_amount and not d_revenue:
        return
    commission.reversed_amount += d_amount
    commission.reversed_revenue += d_revenue
    with commissions_kept(commission.network_id, [commission.pk]):
        commission.save(update_fields=["reversed_amount", "reversed_revenue", "rule_snapshot", "reason",
                                       "updated_at"])
    lines = services._negate(services._earning_lines(commission, d_amount, d_revenue,
                                                     services._liability_kind(commission.status)))
    ledger.transaction_post(network=commission.network_id, kind=kind, ref=commission, key=key, lines=lines)


def _adjustment_create(commission: Commission, *, amount: Decimal, revenue: Decimal, snapshot: dict,
                       reason: str) -> Commission:
    """The adjustment paying `amount` more to `commission`'s affiliate (and `revenue` more from the advertiser)."""
    # It follows the commission's state; one already approved (or paid) has its adjustment approved when the
    # hold-period task next runs (same hold_until, already past).
    status = commission.status if commission.status in (Status.PENDING, Status.ON_HOLD) else Status.PENDING
    # The commission's own records stay its own: a correction after refunds left it a `refund_rebase` (what stood
    # reversed of it), which would count as already reversed of the adjustment and reverse it whole.
    snapshot = {key: value for key, value in snapshot.items() if key not in OWN_RECORDS}
    adjustment = services.commission_create(
        network=commission.network_id, status=status, key=f"commission:{commission.pk}:trueup",
        kind=Commission.Kind.ADJUSTMENT, tier=commission.tier, adjusts=commission, program=commission.program,
        advertiser_id=commission.advertiser_id, affiliate=commission.affiliate, conversion=commission.conversion,
        rule_id=commission.rule_id, rule_snapshot=snapshot, currency=commission.currency,
        base_amount=commission.base_amount, amount=amount, revenue=revenue, refunded_base=commission.refunded_base,
        reason=reason[:255], hold_until=commission.hold_until,
    )
    adjustment.conversion = commission.conversion
    # Refunded before the true-up: the pair stands reversed in the refunded share.
    _reverse_to_targets(adjustment, original=commission, kind="commission.reversed",
                        key=f"commission:{adjustment.pk}:trueup_refund")
    return adjustment


def _true_to(commission: Commission, *, amount: Decimal, revenue: Decimal, reason: str, trueup: dict,
             snapshot: dict, created: list, reduced: list) -> None:
    """Bring one commission to (amount, revenue): an adjustment for more, a reduction on itself for less."""
    if commission.pk in {c.adjusts_id for c in created} or "trued_down" in (commission.rule_snapshot or {}):
        return
    if Commission.objects.filter(network_id=commission.network_id, adjusts=commission).exists():
        return
    d_amount, d_revenue = amount - commission.amount, revenue - commission.revenue
    if d_amount > 0 or d_revenue > 0:
        created.append(_adjustment_create(
            commission, amount=max(d_amount, ZERO), revenue=max(d_revenue, ZERO), reason=reason,
            snapshot={**snapshot, "trueup": trueup},
        ))
    if d_amount < 0 or d_revenue < 0:
        cur = commission.currency
        down = {"amount": str(quantize(max(-d_amount, ZERO), cur)),
                "revenue": str(quantize(max(-d_revenue, ZERO), cur))}
        commission.rule_snapshot = {**(commission.rule_snapshot or {}), "trued_down": down, "trueup": trueup}
        commission.reason = reason[:255]
        commission.save(update_fields=["rule_snapshot", "reason", "updated_at"])
        _reverse_to_targets(commission, original=None, kind="commission.trued_down",
                            key=f"commission:{commission.pk}:trueup")
        reduced.append(commission)


def _period_label(start: datetime, tier_period: str) -> str:
    return start.strftime("%Y-%m") if tier_period == CommissionRule.TierPeriod.MONTH else start.strftime("%G-W%V")


@transaction.atomic
def tier_trueup(*, network: Network, program: Program, affiliate: Affiliate, event: str, tier_period: str,
                period_start: datetime, period_end: datetime) -> TierTrueUp:
    """True up one affiliate's commissions of one program and event for the closed period [start, end)."""
    commissions = list(
        Commission.objects.select_for_update(of=("self",))
        .filter(network=network, program=program, affiliate=affiliate, tier=1, kind=event, conversion__isnull=False,
                conversion__created_at__gte=period_start, conversion__created_at__lt=period_end)
        .select_related("program", "affiliate", "advertiser", "conversion").order_by("pk")
    )
    unit = {"network": network, "program": program, "affiliate": affiliate, "event": event,
            "tier_period": tier_period, "period_start": period_start}
    done = TierTrueUp.objects.filter(**unit).first()
    if done is not None:
        return done
    progress = tier_progress(network_id=network.pk, program_id=program.pk, affiliate_id=affiliate.pk, event=event,
                             currency=program.currency, start=period_start, until=period_end, inclusive=False)
    adjusted_ids = set(Commission.objects.filter(network=network, adjusts__in=commissions)
                       .values_list("adjusts_id", flat=True))
    label = _period_label(period_start, tier_period)
    created, reduced = [], []
    for commission in commissions:
        snap = commission.rule_snapshot or {}
        if (commission.status not in services.LIABLE or not snap.get("tiers")
                or snap.get("tier_period") != tier_period or commission.pk in adjusted_ids or "trued_down" in snap):
            continue
        basis = snap.get("tier_basis") or CommissionRule.TierBasis.CONVERSIONS
        rate = tier_rate(payout=snap["payout"], tiers=snap["tiers"], reached=progress.reached(basis))
        amount, revenue = commission_amounts(kind=snap["kind"], rate=rate, revenue_rate=snap.get("revenue"),
                                             base=Decimal(commission.base_amount), currency=commission.currency)
        if amount == commission.amount and revenue == commission.revenue:
            continue
        reason = TRUEUP_REASON % {"period": label, "before": snap.get("rate"), "rate": plain(rate)}
        trueup = {"period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
                  "tier_basis": basis, "conversions_in_period": progress.conversions,
                  "amount_in_period": plain(progress.amount), "rate_before": snap.get("rate"), "rate": plain(rate)}
        _true_to(commission, amount=amount, revenue=revenue, reason=reason, trueup=trueup,
                 snapshot={**snap, "rate": plain(rate)}, created=created, reduced=reduced)
        # The referrer's override is a share of this commission: it follows it.
        for override in Commission.objects.select_for_update(of=("self",)).filter(
                network=network, parent=commission, tier=2, status__in=services.LIABLE,
                ).select_related("program", "affiliate", "advertiser", "conversion").order_by("pk"):
            percent = Decimal((override.rule_snapshot or {}).get("second_tier_percent") or 0)
            share = second_tier_amount(parent_amount=amount, percent=percent, currency=override.currency)
            _true_to(override, amount=share, revenue=share, reason=reason, trueup=trueup,
                     snapshot={**(override.rule_snapshot or {})}, created=created, reduced=reduced)
    marker = TierTrueUp.objects.create(
        **unit, period_end=period_end, conversions=progress.conversions, amount=progress.amount,
        commissions=len(commissions), adjusted=len(created) + len(reduced),
    )
    if created or reduced:
        audit_log_record(network=network, actor=None, action="commissions.trued_up", target=marker,
                         data={"adjustments": [c.pk for c in created], "reduced": [c.pk for c in reduced],
                               "conversions": progress.conversions, "amount": plain(progress.amount)})
    services.commissions_notify(created, "commission.created")
    services.commissions_notify(reduced, "commission.partially_reversed")
    commissions_adjusted_notify(created, reduced)
    return marker


def closed_periods(*, now: datetime, tier_period: str, tz_name: str, lookback: int) -> list[tuple[datetime, datetime]]:
    """The last `lookback` periods that closed at least TRUEUP_GRACE before `now`, newest first."""
    periods = []
    moment = now - TRUEUP_GRACE
    start, _end = tier_period_bounds(moment=moment, period=tier_period, tz_name=tz_name)
    for _ in range(lookback if start is not None else 0):
        previous, _ = tier_period_bounds(moment=start - timedelta(microseconds=1), period=tier_period,
                                         tz_name=tz_name)
        periods.append((previous, start))
        start = previous
    return periods


def tier_trueups_run(*, now: datetime | None = None, lookback: int = 2) -> int:
    """True up every (network, program, event, affiliate) whose tier period closed (in the network's time zone)
    and is not trued up yet. Returns how many true-ups it wrote. The hourly beat task; idempotent."""
    now = now or timezone.now()
    written = 0
    for network in Network.objects.order_by("pk"):
        units = set()
        for rule in CommissionRule.objects.for_network(network).exclude(tier_period=CommissionRule.TierPeriod.LIFETIME):
            if rule.tiers:
                units.add((rule.program_id, rule.event, rule.tier_period))
        for program_id, event, tier_period in sorted(units):
            for start, end in closed_periods(now=now, tier_period=tier_period, tz_name=network.timezone,
                                             lookback=lookback):
                written += _trueup_period(network, program_id, event, tier_period, start, end)
    return written


def _trueup_period(network: Network, program_id: int, event: str, tier_period: str, start: datetime,
                   end: datetime) -> int:
    affiliate_ids = set(
        Commission.objects.filter(network=network, program_id=program_id, tier=1, kind=event,
                                  conversion__created_at__gte=start, conversion__created_at__lt=end)
        .values_list("affiliate_id", flat=True).distinct()
    )
    affiliate_ids -= set(TierTrueUp.objects.filter(network=network, program_id=program_id, event=event,
                                                   tier_period=tier_period, period_start=start)
                         .values_list("affiliate_id", flat=True))
    if not affiliate_ids:
        return 0
    program = Program.objects.for_network(network).get(pk=program_id)
    written = 0
    for affiliate in Affiliate.objects.for_network(network).filter(pk__in=affiliate_ids).order_by("pk"):
        try:
            tier_trueup(network=network, program=program, affiliate=affiliate, event=event, tier_period=tier_period,
                        period_start=start, period_end=end)
            written += 1
        except IntegrityError:  # trued up concurrently by another run
            logger.info("Tier true-up of %s/%s from %s done concurrently", program_id, affiliate.pk, start)
    return written
