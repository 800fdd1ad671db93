"""A corrected order's commissions: when the advertiser changes a conversion's amount or items
(`tracking.adjustments`), each commission is priced again and the difference posted to the ledger, balanced per
currency, inside the correction's transaction.

Prices are those of the sale: a commission priced by item lines keeps the lines whose item did not change (same
sku, category, quantity and amount) and prices the changed and new ones with the program's rules as they stood when
the commission was computed (rules are only added, never edited, so that set is exact); the removed lines go. One
priced as a whole at a percent is priced again at its recorded rate on the new amount; a fixed one does not change.
A commission the period's tier true-up adjusted is priced at the trued-up rate (its adjustment, or the reduction the
true-up made, follows the new amount); with `tier_basis: "amount"` that rate is the one the period's total reaches
with the corrected order (`_periods_corrected`: the true-up's total moves by the change of the amount), so a sale
corrected below a threshold no longer pays the tier above it, and the period's other commissions follow
(`retrue.period_retrue`). The referrer's override follows its commission.

After refunds the corrected order replaces the cart: what was refunded stays refunded, and each commission becomes
what the corrected cart pays less what the refunds already reversed (never below zero). Later refunds start from
there (`reversals.rebased_targets`). The snapshot keeps each correction (`conversion_adjustments`) for the
explanation. A rejected commission is not priced again: the correction is refused (400).
"""

from collections import Counter
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from core.money import quantize
from network.models import Affiliate, User
from network.services import audit_log_record
from programs.models import CommissionRule, tier_rate
from tracking.items import item_lines
from tracking.models import Conversion

from . import ledger, services
from .daily import commissions_kept
from .models import Commission
from .notifications import commissions_conversion_adjusted_notify
from .retrue import period_retrue, period_totals_move
from .reversals import item_reversal_targets, items_refunded, refund_rebase, reversal_targets
from .rules import (
    TIER_STATUSES,
    RuleParty,
    commission_amounts,
    lines_total,
    party_at_sale,
    plain,
    price_lines,
    program_rules,
    second_tier_amount,
)

ZERO = Decimal(0)
LINE_KEYS = ("sku", "category", "quantity", "amount")
Pair = tuple[Decimal, Decimal]  # (amount, revenue)


def _line_key(line: dict) -> tuple:
    return (str(line.get("sku") or ""), str(line.get("category") or ""), int(line.get("quantity") or 1),
            Decimal(line.get("amount") or 0))


def _refunds_moved(lines: list[dict], removed: list[dict]) -> None:
    """What was refunded by name of a changed or removed item stays refunded: moved to the new lines of the same
    sku, each up to its amount (what finds no room counts as refunded in proportion, with the rest of the order)."""
    left: dict[str, Decimal] = {}
    for line in removed:
        if Decimal(line.get("refunded") or 0) > 0:
            sku = str(line.get("sku") or "").casefold()
            left[sku] = left.get(sku, ZERO) + Decimal(line["refunded"])
    for line in lines:
        sku = str(line.get("sku") or "").casefold()
        room = Decimal(line["amount"]) - Decimal(line.get("refunded") or 0)
        taken = min(left.get(sku, ZERO), room)
        if taken > 0:
            line["refunded"] = format(Decimal(line.get("refunded") or 0) + taken, "f")
            left[sku] -= taken


def lines_repriced(conversion: Conversion, old_lines: list[dict], *, as_of=None,
                   party: Affiliate | RuleParty | None = None) -> tuple[list[dict], list[dict]]:
    """(the new lines, the changed ones) for the conversion's items now: an item unchanged keeps its old line, the
    others are priced by the program's rules as of `as_of` for `party` (the affiliate in its group at the sale: the
    sale's pricing); a removed item's old line is listed as changed with `removed`."""
    items = item_lines(conversion.items) or []
    spare = Counter(_line_key(line) for line in old_lines)
    by_key = {}
    for line in old_lines:
        by_key.setdefault(_line_key(line), []).append(line)
    kept, fresh = [], []
    for item in items:
        key = _line_key(item)
        if spare[key] > 0:
            spare[key] -= 1
            kept.append((len(kept) + len(fresh), dict(by_key[key].pop(0))))
        else:
            fresh.append((len(kept) + len(fresh), item))
    priced = []
    if fresh:
        rules = program_rules(program=conversion.program, event=conversion.event, as_of=as_of)
        priced, _used = price_lines(conversion, items=[item for _i, item in fresh], rules=rules,
                                   party=party)
    ordered = dict(kept)
    ordered.update({index: line for (index, _item), line in zip(fresh, priced, strict=True)})
    lines = [ordered[index] for index in sorted(ordered)]
    gone = [line for lines_of in by_key.values() for line in lines_of]
    _refunds_moved(lines, gone)
    return lines, [*priced, *({**line, "removed": True} for line in gone)]


def _whole_at(commission: Commission, base: Decimal, rate) -> Pair:
    """A whole-order commission's (amount, revenue) at `rate` on `base` (a fixed one: unchanged)."""
    snap = commission.rule_snapshot or {}
    if snap.get("kind") != CommissionRule.Kind.PERCENT or rate is None:
        return commission.amount, commission.revenue
    return commission_amounts(kind=snap["kind"], rate=Decimal(rate), revenue_rate=snap.get("revenue"), base=base,
                              currency=commission.currency)


def _shown(line: dict) -> dict:
    return {**{key: line.get(key) for key in (*LINE_KEYS, "rule_id", "commission", "revenue")},
            **({"removed": True} if line.get("removed") else {})}


def _refused(commissions: list[Commission]) -> None:
    rejected = [c for c in commissions if c.status == Commission.Status.REJECTED]
    if rejected:
        raise ValidationError({"detail": [gettext(
            "Commission %(id)s of this order was rejected: a rejected commission is not priced again.")
            % {"id": rejected[0].pk}]})


def _periods_corrected(conversion: Conversion, before: dict, commissions: list[Commission]
                       ) -> dict[str, tuple[Decimal, Decimal]]:
    """The sale's tier periods already trued up, by tier period: (the sales total their true-up counted, with the
    corrections since; the same with this one). The total moves by the change of the order amount (what was
    refunded stays refunded) when the sale counts towards tiers: in the program's currency, not rejected."""
    counted = conversion.currency == conversion.program.currency and any(
        c.tier == 1 and c.kind != Commission.Kind.ADJUSTMENT and c.status in TIER_STATUSES for c in commissions)
    change = Decimal(conversion.amount) - Decimal(before["amount"]) if counted else ZERO
    return period_totals_move(conversion, change)


class _Targets:
    """What each commission of the corrected order pays now: `own` (its own pricing, at the sale's rate) and `pair`
    (with its tier true-up: the trued-up rate, with `tier_basis: "amount"` the rate the corrected period reaches);
    the override's follow its parent's."""

    def __init__(self, conversion: Conversion, commissions: list[Commission],
                 periods: dict[str, tuple[Decimal, Decimal]] | None = None):
        self.base = Decimal(conversion.amount)
        self.periods = periods or {}
        self.tiers: dict[int, dict] = {}  # a trued-up commission's tier, re-evaluated on the corrected period
        self.conversion = conversion
        self.adjustment_of = {c.adjusts_id: c for c in commissions if c.kind == Commission.Kind.ADJUSTMENT}
        self.own: dict[int, Pair] = {}
        self.pair: dict[int, Pair] = {}
        self.pair_then: dict[int, Pair] = {}  # `pair` at the rate before the correction (the period's tier moved)
        self.lines: dict[int, tuple[list[dict], list[dict]]] = {}
        self.at = timezone.now().isoformat()

    def trued_rate(self, commission: Commission):
        snap = commission.rule_snapshot or {}
        adjustment = self.adjustment_of.get(commission.pk)
        if adjustment is not None:
            rate = (adjustment.rule_snapshot or {}).get("rate")
        elif snap.get("trueup") and "trued_down" in snap:
            rate = snap["trueup"].get("rate")
        else:
            return None
        totals = self.periods.get(snap.get("tier_period"))
        if rate is None or totals is None or snap.get("tier_basis") != CommissionRule.TierBasis.AMOUNT:
            return rate
        before, after = totals
        reached = plain(tier_rate(payout=snap["payout"], tiers=snap["tiers"], reached=max(after, ZERO)))
        if before != after:
            self.tiers[commission.pk] = {"tier_period": snap["tier_period"], "amount_in_period_before": plain(before),
                                         "amount_in_period": plain(after), "rate_before": plain(rate),
                                         "rate": reached}
        return reached

    def price(self, commission: Commission) -> None:
        snap = commission.rule_snapshot or {}
        if commission.tier == 2:
            parent = commission.parent_id
            if parent not in self.own:
                return
            percent = snap.get("second_tier_percent") or 0
            for prices in (self.own, self.pair, self.pair_then):  # the override's revenue is its amount
                share = second_tier_amount(parent_amount=prices[parent][0], percent=percent,
                                           currency=commission.currency)
                prices[commission.pk] = (share, share)
        elif snap.get("items"):
            lines, changed = lines_repriced(self.conversion, snap["items"], as_of=commission.created_at,
                                            party=party_at_sale(commission.affiliate, snap))
            self.lines[commission.pk] = (lines, changed)
            own = (lines_total(lines, "commission"), lines_total(lines, "revenue"))
            self.own[commission.pk] = self.pair[commission.pk] = self.pair_then[commission.pk] = own
        else:
            own = _whole_at(commission, self.base, snap.get("rate"))
            rate = self.trued_rate(commission)
            self.own[commission.pk] = own
            self.pair[commission.pk] = own if rate is None else _whole_at(commission, self.base, rate)
            tier = self.tiers.get(commission.pk)
            self.pair_then[commission.pk] = (self.pair[commission.pk] if tier is None
                                             else _whole_at(commission, self.base, tier["rate_before"]))


def _raw_reversal(commission: Commission, base: Decimal, seen: dict[int, Commission]) -> Pair:
    refunded = Decimal(commission.refunded_base)
    if commission.tier == 1 and (commission.rule_snapshot or {}).get("items") and items_refunded(commission):
        return item_reversal_targets(commission, refunded=refunded, base=base)
    original = seen.get(commission.adjusts_id) if commission.adjusts_id else None
    return reversal_targets(commission, refunded=refunded, base=base, original=original)


def _post_difference(commission: Commission, *, amount: Decimal, revenue: Decimal, down: Pair | None,
                     then: Pair, record: dict, memo: str, seen: dict[int, Commission]) -> Pair | None:
    """Bring the commission to (amount, revenue) (with `down`: the true-up's reduction of it now), never below what
    its refunds reversed, posting the difference of what it still pays (returned); None when nothing changes.

    `then`: what it would pay of the corrected order at the period's rate before the correction. When the correction
    moved the period's tier, the order's refunded share stands reversed at the new rate: what was reversed moves by
    the refunded share of the change the rate made (so it pays the new rate on what remains, refunds refunded)."""
    snap = dict(commission.rule_snapshot or {})
    reversed_amount, reversed_revenue = commission.reversed_amount, commission.reversed_revenue
    if down is not None:
        old = snap.get("trued_down") or {}
        reversed_amount += down[0] - Decimal(old.get("amount", "0"))
        reversed_revenue += down[1] - Decimal(old.get("revenue", "0"))
        snap["trued_down"] = {"amount": str(down[0]), "revenue": str(down[1])}
    refunded, base, cur = Decimal(commission.refunded_base), Decimal(commission.conversion.amount), commission.currency
    if 0 < refunded < base:
        pays = (amount - down[0], revenue - down[1]) if down is not None else (amount, revenue)
        reversed_amount = max(reversed_amount + quantize((pays[0] - then[0]) * refunded / base, cur), ZERO)
        reversed_revenue = max(reversed_revenue + quantize((pays[1] - then[1]) * refunded / base, cur), ZERO)
    amount, revenue = max(amount, reversed_amount), max(revenue, reversed_revenue)
    d_amount = (amount - reversed_amount) - commission.remaining_amount
    d_revenue = (revenue - reversed_revenue) - commission.remaining_revenue
    if (not d_amount and not d_revenue and amount == commission.amount and not record.get("lines")
            and not commission.refunded_base):
        return None
    done = snap.get("conversion_adjustments") or []
    record = {**record, "amount_before": plain(commission.amount), "amount": plain(amount),
              "revenue_before": plain(commission.revenue), "revenue": plain(revenue)}
    if reversed_amount or reversed_revenue:
        record["reversed"] = plain(reversed_amount)
    commission.rule_snapshot = {**snap, "conversion_adjustments": [*done, record]}
    commission.amount, commission.revenue = amount, revenue
    commission.reversed_amount, commission.reversed_revenue = reversed_amount, reversed_revenue
    if commission.refunded_base > 0:  # later refunds start from here: nothing refunded is reversed twice
        raw = _raw_reversal(commission, base, seen)
        commission.rule_snapshot["refund_rebase"] = refund_rebase(commission, refunded=commission.refunded_base,
                                                                  raw=raw)
    with commissions_kept(commission.network_id, [commission.pk]):
        commission.save(update_fields=["amount", "revenue", "reversed_amount", "reversed_revenue", "base_amount",
                                       "rule_snapshot", "updated_at"])
    if d_amount or d_revenue:
        # Signed: more pays the affiliate more (from pending or approved, by status), less takes it back.
        lines = services._earning_lines(commission, d_amount, d_revenue,
                                        services._liability_kind(commission.status))
        ledger.transaction_post(network=commission.network_id, kind="commission.adjusted", ref=commission,
                                key=f"commission:{commission.pk}:conversion_adjusted:{len(done) + 1}", lines=lines,
                                memo=memo)
    return d_amount, d_revenue


def _new_amounts(commission: Commission, targets: _Targets) -> tuple[Pair, Pair | None, dict, Pair]:
    """(amount, revenue), the true-up's reduction (None: not reduced), the correction's record of one commission and
    what it would pay at the period's rate before the correction (`_post_difference`'s `then`). An adjustment pays
    what the trued-up pair pays beyond its commission; a reduced commission keeps its own price and the reduction
    grows or shrinks to the trued-up rate."""
    record: dict = {"at": targets.at}
    tier = targets.tiers.get(commission.adjusts_id or commission.pk)
    if tier is not None:  # the period's total moved: the trued-up rate recorded is the one it reaches now
        record["tier"] = tier
        snap = dict(commission.rule_snapshot or {})
        if "trueup" in snap:  # the adjustment's, or the reduced commission's
            snap["trueup"] = {**snap["trueup"], "amount_in_period": tier["amount_in_period"], "rate": tier["rate"]}
        if commission.kind == Commission.Kind.ADJUSTMENT:
            snap["rate"] = tier["rate"]
        commission.rule_snapshot = snap
    if commission.kind == Commission.Kind.ADJUSTMENT:
        key = commission.adjusts_id
        own, pair, then = targets.own[key], targets.pair[key], targets.pair_then[key]
        return ((max(pair[0] - own[0], ZERO), max(pair[1] - own[1], ZERO)), None, record,
                (max(then[0] - own[0], ZERO), max(then[1] - own[1], ZERO)))
    own, pair, then = targets.own[commission.pk], targets.pair[commission.pk], targets.pair_then[commission.pk]
    if commission.pk in targets.lines:
        lines, changed = targets.lines[commission.pk]
        commission.rule_snapshot = {**commission.rule_snapshot, "items": lines,
                                    "items_amount": plain(sum((Decimal(i["amount"]) for i in lines), ZERO))}
        record["lines"] = [_shown(line) for line in changed]
    # Reduced by the true-up, or raised by it to a rate the corrected period no longer reaches, below its own.
    below = commission.pk in targets.adjustment_of and (own[0] > pair[0] or own[1] > pair[1])
    if below or "trued_down" in (commission.rule_snapshot or {}):
        cur = commission.currency
        down = (quantize(max(own[0] - pair[0], ZERO), cur), quantize(max(own[1] - pair[1], ZERO), cur))
        return own, down, record, (min(own[0], then[0]), min(own[1], then[1]))
    return own, None, record, own


def commissions_follow_adjustment(*, conversion: Conversion, before: dict, actor: User | None = None) -> list:
    """Price the conversion's commissions again after its correction and post the differences. Returns the
    commissions that changed."""
    every = list(Commission.objects.select_for_update(of=("self",))
                 .filter(network_id=conversion.network_id, conversion=conversion)
                 .select_related("program", "affiliate", "advertiser").order_by("tier", "pk"))
    _refused(every)
    commissions = [c for c in every if c.status in services.LIABLE]
    base = Decimal(conversion.amount)
    cur = conversion.currency
    memo = (f"conversion {conversion.order_id} adjusted: {quantize(Decimal(before['amount']), cur)} -> "
            f"{quantize(base, cur)} {cur}")
    periods = _periods_corrected(conversion, before, commissions)
    targets = _Targets(conversion, commissions, periods)
    for commission in commissions:
        commission.conversion = conversion
        if commission.kind != Commission.Kind.ADJUSTMENT:
            targets.price(commission)
    changed, seen = [], {}
    for commission in commissions:
        seen[commission.pk] = commission
        key = commission.adjusts_id if commission.kind == Commission.Kind.ADJUSTMENT else commission.pk
        if key not in targets.own:
            continue
        commission.base_amount = base
        (amount, revenue), down, record, then = _new_amounts(commission, targets)
        difference = _post_difference(commission, amount=amount, revenue=revenue, down=down, then=then,
                                      record=record, memo=memo, seen=seen)
        if difference is not None:
            changed.append((commission, *difference))
            audit_log_record(network=conversion.network, actor=actor, action="commission.conversion_adjusted",
                             target=commission, data=commission.rule_snapshot["conversion_adjustments"][-1])
        else:
            kept = {"base_amount": base}
            if record.get("tier"):  # the period's rate moved but not this one's money (an adjustment left at zero):
                kept["rule_snapshot"] = commission.rule_snapshot  # its recorded rate is the one the period reaches
            Commission.objects.filter(network_id=commission.network_id, pk=commission.pk).update(**kept)
    commissions_conversion_adjusted_notify(changed)
    # The period's sales moved: its commissions go to the rate they reach (those priced at it above stay).
    priced = {c.pk for c in commissions if c.pk in targets.adjustment_of or "trued_down" in (c.rule_snapshot or {})}
    retrued = period_retrue(conversion=conversion, periods=periods, priced=priced, actor=actor)
    return [*(commission for commission, _d_amount, _d_revenue in changed), *retrued]
