"""A correction, a refund or a rejection that moves an amount-based tier period's sales into another tier re-trues the
period: every commission the true-up governs ends at the rate the new total reaches, through its adjustment or its
`trued_down` reduction. The true-up's record (`TierTrueUp.amount`) keeps the running total.

Refunds stay refunded: the refunded share of each order reverses the same share of what the commission now pays
(`reversals.reversal_targets`, from a correction's rebase when there was one). Each change is one balanced posting,
from pending or approved by the commission's status, as refunds and corrections post (a paid commission lowered
leaves a negative approved balance that the next payout nets out; one raised gets an adjustment, paid next time).
"""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from core.money import quantize
from core.words import RETRUE_REASON, RETRUE_REFUND_REASON, RETRUE_REJECT_REASON
from network.models import User
from network.services import audit_log_record
from programs.models import CommissionRule, tier_rate
from tracking.models import Conversion

from . import ledger, services
from .daily import commissions_kept
from .models import Commission, TierTrueUp
from .notifications import commissions_adjusted_notify, commissions_conversion_adjusted_notify
from .reversals import rebased_targets, reversal_targets, trued_down
from .rules import commission_amounts, plain, second_tier_amount
from .signals import REFUNDED, REJECTED
from .trueup import _adjustment_create, _period_label

ZERO = Decimal(0)
Pair = tuple[Decimal, Decimal]
# Why the period's sales moved: the order was corrected, refunded, or its commission rejected.
CORRECTED = "corrected"
REASONS = {CORRECTED: RETRUE_REASON, REFUNDED: RETRUE_REFUND_REASON, REJECTED: RETRUE_REJECT_REASON}


class _Run:
    """One period's re-true: what it reached, why, and what changed (for the notifications)."""

    def __init__(self, marker: TierTrueUp, conversion: Conversion, before: Decimal, after: Decimal,
                 cause: str = CORRECTED):
        self.marker, self.before, self.after, self.cause = marker, before, after, cause
        self.order_id, self.conversion_id = conversion.order_id, conversion.pk
        self.at = timezone.now().isoformat()
        self.created: list[Commission] = []
        self.changed: list[tuple[Commission, Decimal, Decimal]] = []
        # Read and written once for the whole period: the referrers' overrides (by parent) and their adjustments,
        # the postings (one `transactions_post`) and the ledger accounts they name.
        self.overrides: dict[int, list[Commission]] = {}
        self.override_adjustments: dict[int, Commission] = {}
        self.postings: list[ledger.Posting] = []
        self.accounts: dict = {}

    def trueup(self, snap: dict, rate_before: str, rate: str) -> dict:
        marker = self.marker
        return {**(snap.get("trueup") or {"period_start": marker.period_start.isoformat(),
                                          "period_end": marker.period_end.isoformat(), "tier_basis": "amount",
                                          "conversions_in_period": marker.conversions, "rate_before": rate_before}),
                "amount_in_period": plain(self.after), "rate": rate}

    def reason(self, rate_before: str, rate: str) -> str:
        label = _period_label(self.marker.period_start, self.marker.tier_period)
        return (REASONS[self.cause] % {"period": label, "order": self.order_id, "before": rate_before,
                                       "rate": rate})[:255]

    def record(self, commission: Commission, rate_before: str, rate: str, paid_before: Pair, paid: Pair) -> dict:
        """The snapshot's `retrued` entry (the explanation's `period_retrues`; `own`: the corrected or refunded
        sale's; `cause`: refunded or rejected, none for a correction)."""
        cur = commission.currency
        return {**({} if self.cause == CORRECTED else {"cause": self.cause}),
                "at": self.at, "order_id": self.order_id, "own": commission.conversion_id == self.conversion_id,
                "tier_period": self.marker.tier_period,
                "amount_in_period_before": plain(self.before), "amount_in_period": plain(self.after),
                "rate_before": rate_before, "rate": rate,
                "amount_before": str(quantize(paid_before[0], cur)), "amount": str(quantize(paid[0], cur)),
                "revenue_before": str(quantize(paid_before[1], cur)), "revenue": str(quantize(paid[1], cur))}


def _reversal_now(commission: Commission, original: Commission | None) -> Pair:
    """What the commission's refunds reverse of it as it now stands (none refunded: nothing)."""
    refunded = Decimal(commission.refunded_base)
    if not refunded:
        return ZERO, ZERO
    base = Decimal(commission.conversion.amount)
    raw = reversal_targets(commission, refunded=refunded, base=base, original=original)
    return rebased_targets(commission, refunded=refunded, base=base, raw=raw)


def _remaining(commission: Commission | None) -> Pair:
    if commission is None:
        return ZERO, ZERO
    return commission.remaining_amount, commission.remaining_revenue


def _save_and_post(commission: Commission, *, before: Pair, kind: str, key: str, memo: str, run: _Run) -> Pair:
    """Save the commission and post the change of what it still pays (signed), by its status (its days are kept and
    its posting made for the whole period at once, `period_retrue`)."""
    d_amount = commission.remaining_amount - before[0]
    d_revenue = commission.remaining_revenue - before[1]
    commission.save(update_fields=["amount", "revenue", "reversed_amount", "reversed_revenue", "rule_snapshot",
                                   "reason", "updated_at"])
    if d_amount or d_revenue:
        lines = services._earning_lines(commission, d_amount, d_revenue, services._liability_kind(commission.status),
                                        accounts=run.accounts)
        run.postings.append(ledger.Posting(kind, lines, commission, key, memo))
    return d_amount, d_revenue


def _retrue_one(commission: Commission, adjustment: Commission | None, *, pair: Pair, rate_before: str, rate: str,
                run: _Run, actor: User | None) -> None:
    """Bring one commission and its adjustment to `pair`: an adjustment pays what is above its own price, the
    reduction takes off what is below it; the refunded share of the order stays reversed."""
    cur = commission.currency
    own = (commission.amount, commission.revenue)
    down = (quantize(max(own[0] - pair[0], ZERO), cur), quantize(max(own[1] - pair[1], ZERO), cur))
    up = (max(pair[0] - own[0], ZERO), max(pair[1] - own[1], ZERO))
    paid_before = tuple(a + b for a, b in zip(_remaining(commission), _remaining(adjustment), strict=True))
    reason = run.reason(rate_before, rate)
    memo = f"tier period re-trued: order {run.order_id} {run.cause}"
    n = len((commission.rule_snapshot or {}).get("retrued") or []) + 1
    snap = dict(commission.rule_snapshot or {})
    if down != trued_down(commission) and (any(down) or "trued_down" in snap):
        before = _remaining(commission)
        commission.rule_snapshot = {**snap, "trued_down": {"amount": str(down[0]), "revenue": str(down[1])},
                                    "trueup": run.trueup(snap, rate_before, rate)}
        commission.reason = reason
        commission.reversed_amount, commission.reversed_revenue = _reversal_now(commission, None) \
            if commission.refunded_base else down
        change = _save_and_post(commission, before=before, kind="commission.trued_down",
                                key=f"commission:{commission.pk}:retrued:{n}", memo=memo, run=run)
        run.changed.append((commission, *change))
    if adjustment is None and (up[0] > 0 or up[1] > 0):
        snapshot = {**snap, "rate": rate, "trueup": run.trueup(snap, rate_before, rate)}
        adjustment = _adjustment_create(commission, amount=up[0], revenue=up[1], snapshot=snapshot, reason=reason)
        run.created.append(adjustment)
    elif adjustment is not None and ((adjustment.amount, adjustment.revenue) != up
                                     or (adjustment.rule_snapshot or {}).get("rate") != rate):
        before = _remaining(adjustment)
        adj_snap = dict(adjustment.rule_snapshot or {})
        adjustment.rule_snapshot = {**adj_snap, "rate": rate, "trueup": run.trueup(adj_snap, rate_before, rate)}
        adjustment.amount, adjustment.revenue = up
        adjustment.reason = reason
        adjustment.reversed_amount, adjustment.reversed_revenue = _reversal_now(adjustment, commission)
        change = _save_and_post(adjustment, before=before, kind="commission.adjusted",
                                key=f"commission:{adjustment.pk}:retrued:{n}", memo=memo, run=run)
        run.changed.append((adjustment, *change))
    paid = tuple(a + b for a, b in zip(_remaining(commission), _remaining(adjustment), strict=True))
    record = run.record(commission, rate_before, rate, paid_before, paid)
    snap = dict(commission.rule_snapshot or {})
    commission.rule_snapshot = {**snap, "retrued": [*(snap.get("retrued") or []), record]}
    Commission.objects.filter(network_id=commission.network_id, pk=commission.pk).update(
        rule_snapshot=commission.rule_snapshot)
    audit_log_record(network=commission.network, actor=actor, action="commission.retrued", target=commission,
                     data={**record, "reason": reason})


def _current_rate(commission: Commission, adjustment: Commission | None) -> str:
    snap = commission.rule_snapshot or {}
    if adjustment is not None:
        return str((adjustment.rule_snapshot or {}).get("rate"))
    if "trued_down" in snap and snap.get("trueup"):
        return str(snap["trueup"].get("rate"))
    return str(snap.get("rate"))


def _adjustments(network_id: int, ids: list[int]) -> dict[int, Commission]:
    """The adjustments of these commissions (locked), by the commission they adjust."""
    return {adjustment.adjusts_id: adjustment for adjustment in (
        Commission.objects.select_for_update(of=("self",))
        .filter(network_id=network_id, kind=Commission.Kind.ADJUSTMENT, adjusts__in=ids)
        .select_related("program", "affiliate", "advertiser", "conversion"))}


def _governed(marker: TierTrueUp, start: datetime, end: datetime) -> list[Commission]:
    """The period's first-tier commissions the true-up governs: a tiered rule counting the sales amount over this
    period, priced as a whole order, still owed (not rejected, not reversed in full)."""
    commissions = (Commission.objects.select_for_update(of=("self",))
                   .filter(network_id=marker.network_id, program_id=marker.program_id,
                           affiliate_id=marker.affiliate_id, tier=1, kind=marker.event,
                           status__in=services.LIABLE, conversion__isnull=False,
                           conversion__created_at__gte=start, conversion__created_at__lt=end)
                   .select_related("program", "affiliate", "advertiser", "conversion", "network").order_by("pk"))
    governed = []
    for commission in commissions:
        snap = commission.rule_snapshot or {}
        if (snap.get("tiers") and snap.get("tier_period") == marker.tier_period and not snap.get("items")
                and snap.get("tier_basis") == CommissionRule.TierBasis.AMOUNT):
            governed.append(commission)
    return governed


def _overrides_read(run: _Run, governed: list[Commission]) -> None:
    """The referrers' overrides of the period's commissions and their adjustments (locked), into the run."""
    for override in (Commission.objects.select_for_update(of=("self",))
                     .filter(network_id=run.marker.network_id, parent__in=[c.pk for c in governed], tier=2,
                             status__in=services.LIABLE)
                     .select_related("program", "affiliate", "advertiser", "conversion", "network").order_by("pk")):
        run.overrides.setdefault(override.parent_id, []).append(override)
    run.override_adjustments = _adjustments(run.marker.network_id,
                                            [o.pk for found in run.overrides.values() for o in found])


def _overrides(commission: Commission, pair: Pair, run: _Run) -> list[tuple[Commission, Pair]]:
    """The referrer's overrides of the commission, each with its share of `pair` (its revenue is its amount)."""
    found = []
    for override in run.overrides.get(commission.pk, []):
        percent = Decimal((override.rule_snapshot or {}).get("second_tier_percent") or 0)
        share = second_tier_amount(parent_amount=pair[0], percent=percent, currency=override.currency)
        found.append((override, (share, share)))
    return found


def _raised_beyond_own(commission: Commission, adjustment: Commission | None, *, pair: Pair, rate: str, run: _Run,
                       actor: User | None) -> None:
    """A corrected sale the true-up had reduced, now in a tier above its own rate: the adjustment it lacks (and its
    override's)."""
    if adjustment is not None or (pair[0] <= commission.amount and pair[1] <= commission.revenue):
        return
    snap = commission.rule_snapshot
    tier = ((snap.get("conversion_adjustments") or [{}])[-1]).get("tier") or {}
    rate_before = str(tier.get("rate_before") or snap["rate"])  # what the true-up paid before this correction
    _retrue_one(commission, None, pair=pair, rate_before=rate_before, rate=rate, run=run, actor=actor)
    for override, share in _overrides(commission, pair, run):
        if override.pk not in run.override_adjustments and share[0] > override.amount:
            _retrue_one(override, None, pair=share, rate_before=rate_before, rate=rate, run=run, actor=actor)


def period_retrue(*, conversion: Conversion, periods: dict[str, tuple[Decimal, Decimal]], priced: set[int],
                  actor: User | None = None, cause: str = CORRECTED) -> list[Commission]:
    """After the correction (refund, rejection: `cause`) of `conversion` moved its trued-up periods' sales
    (`periods`: before, after), bring every commission of those periods to the rate the new total reaches, but those
    the correction already priced at that rate (`priced`: ids). Returns the commissions and adjustments that changed
    or were created."""
    moved = {period: totals for period, totals in periods.items() if totals[0] != totals[1]}
    if not moved:
        return []
    markers = TierTrueUp.objects.filter(
        network_id=conversion.network_id, program_id=conversion.program_id, affiliate_id=conversion.affiliate_id,
        event=conversion.event, tier_period__in=list(moved), period_start__lte=conversion.created_at,
        period_end__gt=conversion.created_at).order_by("pk")
    created, changed = [], []
    for marker in markers:
        before, after = moved[marker.tier_period]
        run = _Run(marker, conversion, before, after, cause)
        governed = _governed(marker, marker.period_start, marker.period_end)
        adjustments = _adjustments(marker.network_id, [c.pk for c in governed])
        _overrides_read(run, governed)
        touched = [*(c.pk for c in governed), *(a.pk for a in adjustments.values()),
                   *(o.pk for found in run.overrides.values() for o in found),
                   *(a.pk for a in run.override_adjustments.values())]
        with commissions_kept(marker.network_id, touched):
            _period_retrue(run, governed, adjustments, priced=priced, after=after, actor=actor)
        ledger.transactions_post(network=marker.network_id, postings=run.postings)
        created += run.created
        changed += run.changed
    services.commissions_notify(created, "commission.created")
    commissions_adjusted_notify(created, [])
    commissions_conversion_adjusted_notify(changed)
    return [*created, *(commission for commission, _a, _r in changed)]


def _period_retrue(run: _Run, governed: list[Commission], adjustments: dict[int, Commission], *, priced: set[int],
                   after: Decimal, actor: User | None) -> None:
    """Bring each commission the period governs (and its override) to the rate `after` reaches."""
    for commission in governed:
        snap = commission.rule_snapshot
        adjustment = adjustments.get(commission.pk)
        rate_before = _current_rate(commission, adjustment)
        rate = plain(tier_rate(payout=snap["payout"], tiers=snap["tiers"], reached=max(after, ZERO)))
        pair = commission_amounts(kind=snap["kind"], rate=Decimal(rate), revenue_rate=snap.get("revenue"),
                                  base=Decimal(commission.base_amount), currency=commission.currency)
        if commission.pk in priced:
            # The correction priced it at this rate through its reduction; above its own rate that is not
            # enough: an adjustment pays the rest.
            _raised_beyond_own(commission, adjustment, pair=pair, rate=rate, run=run, actor=actor)
            continue
        if Decimal(rate) == Decimal(rate_before):
            continue
        _retrue_one(commission, adjustment, pair=pair, rate_before=rate_before, rate=rate, run=run, actor=actor)
        # The referrer's override is a share of this commission: it follows it.
        for override, share in _overrides(commission, pair, run):
            _retrue_one(override, run.override_adjustments.get(override.pk), pair=share,
                        rate_before=rate_before, rate=rate, run=run, actor=actor)


def period_totals_move(conversion: Conversion, change: Decimal) -> dict[str, tuple[Decimal, Decimal]]:
    """The sale's tier periods already trued up, by tier period: (the sales total their true-up counted, with the
    moves since; the same with `change`), each true-up's record moved to the new total (locked: one move at a time)."""
    markers = list(TierTrueUp.objects.select_for_update().filter(
        network_id=conversion.network_id, program_id=conversion.program_id, affiliate_id=conversion.affiliate_id,
        event=conversion.event, period_start__lte=conversion.created_at, period_end__gt=conversion.created_at,
    ).order_by("pk"))
    totals = {}
    for marker in markers:
        total = marker.amount
        if change:
            marker.amount = total + change
            marker.save(update_fields=["amount"])
        totals[marker.tier_period] = (total, marker.amount)
    return totals


def period_sales_lost(*, conversion: Conversion, lost: Decimal, cause: str, actor: User | None = None
                      ) -> list[Commission]:
    """A refund (`cause` REFUNDED) or a rejection (REJECTED) after the true-up: the order counts `lost` less towards
    its trued-up periods' sales. When the new total is in another tier the period is trued up again, the refunded
    sale's own commission with the others: its refund reversed it at the old rate, the re-true brings what remains of
    it to the new one (refunds stay refunded). Returns the commissions and adjustments that changed or were created."""
    if not lost:
        return []
    periods = period_totals_move(conversion, -lost)
    return period_retrue(conversion=conversion, periods=periods, priced=set(), actor=actor, cause=cause)


def on_period_sales_lost(sender, conversion: Conversion, lost: Decimal, cause: str, actor: User | None = None,
                         **kwargs) -> None:
    period_sales_lost(conversion=conversion, lost=lost, cause=cause, actor=actor)
