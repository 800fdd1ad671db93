"""A corrected order's commissions: when the advertiser changes a conversion's amount or items
(`tracking.adjustments`), each commission is priced again and the difference posted to the ledger, balanced per
currency, inside the correction's transaction.

A commission priced by item lines keeps the lines whose item did not change (same sku, category, quantity and
amount: the rate it was paid at) and prices the changed and new ones with the program's rules (`price_lines`);
the removed lines go. One priced as a whole at a percent is priced again at its recorded rate on the new amount;
a fixed one does not change. The referrer's override follows its commission. The snapshot keeps each
correction (`conversion_adjustments`: the changed lines, the amounts before and after) for the explanation.
Commissions already trued up for their tier period are not priced again: the correction is refused (400).
"""

from collections import Counter
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.money import quantize
from network.models import User
from network.services import audit_log_record
from programs.models import CommissionRule
from tracking.items import item_lines
from tracking.models import Conversion

from . import ledger, services
from .daily import commissions_kept
from .models import Commission
from .notifications import commissions_conversion_adjusted_notify
from .rules import commission_amounts, lines_total, plain, price_lines, program_rules, second_tier_amount

ZERO = Decimal(0)
LINE_KEYS = ("sku", "category", "quantity", "amount")


def _line_key(line: dict) -> tuple:
    return (str(line.get("sku") or ""), str(line.get("category") or ""), int(line.get("quantity") or 1),
            Decimal(line.get("amount") or 0))


def lines_repriced(conversion: Conversion, old_lines: list[dict]) -> tuple[list[dict], list[dict]]:
    """(the new lines, the changed ones) for the conversion's items now: an item unchanged keeps its old line, the
    others are priced by the program's rules; a removed item's old line is listed as changed with `removed`."""
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
            kept.append((len(kept) + len(fresh), by_key[key].pop(0)))
        else:
            fresh.append((len(kept) + len(fresh), item))
    priced = []
    if fresh:
        rules = program_rules(program=conversion.program, event=conversion.event)
        priced, _used = price_lines(conversion, items=[item for _i, item in fresh], rules=rules)
    ordered = dict(kept)
    ordered.update({index: line for (index, _item), line in zip(fresh, priced, strict=True)})
    lines = [ordered[index] for index in sorted(ordered)]
    removed = [{**line, "removed": True} for key, lines_of in by_key.items() for line in lines_of]
    return lines, [*priced, *removed]


def _whole_repriced(commission: Commission, base: Decimal) -> tuple[Decimal, Decimal]:
    snap = commission.rule_snapshot or {}
    if snap.get("kind") != CommissionRule.Kind.PERCENT or snap.get("rate") is None:
        return commission.amount, commission.revenue
    return commission_amounts(kind=snap["kind"], rate=Decimal(snap["rate"]), revenue_rate=snap.get("revenue"),
                              base=base, currency=commission.currency)


def _shown(line: dict) -> dict:
    return {**{key: line.get(key) for key in (*LINE_KEYS, "rule_id", "commission", "revenue")},
            **({"removed": True} if line.get("removed") else {})}


def _post_difference(commission: Commission, *, amount: Decimal, revenue: Decimal, record: dict,
                     memo: str) -> tuple[Decimal, Decimal] | None:
    """Bring the commission to (amount, revenue), posting the difference (returned); None when nothing changes."""
    d_amount, d_revenue = amount - commission.amount, revenue - commission.revenue
    if not d_amount and not d_revenue and not record.get("lines"):
        return None
    snap = commission.rule_snapshot or {}
    done = snap.get("conversion_adjustments") or []
    record = {**record, "amount_before": plain(commission.amount), "amount": plain(amount),
              "revenue_before": plain(commission.revenue), "revenue": plain(revenue)}
    commission.rule_snapshot = {**snap, "conversion_adjustments": [*done, record]}
    commission.amount, commission.revenue = amount, revenue
    with commissions_kept(commission.network_id, [commission.pk]):
        commission.save(update_fields=["amount", "revenue", "base_amount", "rule_snapshot", "updated_at"])
    # Signed: more pays the affiliate more (from pending or approved, by status), less takes it back.
    lines = services._earning_lines(commission, d_amount, d_revenue, services._liability_kind(commission.status))
    ledger.transaction_post(network=commission.network_id, kind="commission.adjusted", ref=commission,
                            key=f"commission:{commission.pk}:conversion_adjusted:{len(done) + 1}", lines=lines,
                            memo=memo)
    return d_amount, d_revenue


def commissions_follow_adjustment(*, conversion: Conversion, before: dict, actor: User | None = None) -> list:
    """Price the conversion's commissions again after its correction and post the differences. Returns the
    commissions that changed."""
    commissions = list(
        Commission.objects.select_for_update(of=("self",))
        .filter(network_id=conversion.network_id, conversion=conversion, status__in=services.LIABLE)
        .select_related("program", "affiliate", "advertiser").order_by("tier", "pk"))
    if any(c.kind == Commission.Kind.ADJUSTMENT or "trueup" in (c.rule_snapshot or {}) for c in commissions):
        raise ValidationError({"detail": ["Its commissions were trued up for their tier period: refund what "
                                          "changed instead of adjusting the conversion."]})
    base = Decimal(conversion.amount)
    cur = conversion.currency
    memo = (f"conversion {conversion.order_id} adjusted: {quantize(Decimal(before['amount']), cur)} -> "
            f"{quantize(base, cur)} {cur}")
    at = timezone.now().isoformat()
    new_amounts: dict[int, Decimal] = {}
    changed = []
    for commission in commissions:
        commission.conversion = conversion
        commission.base_amount = base
        snap = commission.rule_snapshot or {}
        record = {"at": at}
        if commission.tier == 2:
            parent_amount = new_amounts.get(commission.parent_id)
            if parent_amount is None:
                continue
            amount = second_tier_amount(parent_amount=parent_amount, percent=snap.get("second_tier_percent") or 0,
                                        currency=commission.currency)
            revenue = amount
        elif snap.get("items"):
            lines, changed_lines = lines_repriced(conversion, snap["items"])
            commission.rule_snapshot = {**snap, "items": lines,
                                        "items_amount": plain(sum((Decimal(i["amount"]) for i in lines), ZERO))}
            record["lines"] = [_shown(line) for line in changed_lines]
            amount, revenue = lines_total(lines, "commission"), lines_total(lines, "revenue")
        else:
            amount, revenue = _whole_repriced(commission, base)
        difference = _post_difference(commission, amount=amount, revenue=revenue, record=record, memo=memo)
        if difference is not None:
            changed.append((commission, *difference))
            new_amounts[commission.pk] = amount
            audit_log_record(network=conversion.network, actor=actor, action="commission.conversion_adjusted",
                             target=commission, data=commission.rule_snapshot["conversion_adjustments"][-1])
        elif commission.tier == 1:
            Commission.objects.filter(network_id=commission.network_id, pk=commission.pk).update(base_amount=base)
    commissions_conversion_adjusted_notify(changed)
    return [commission for commission, _d_amount, _d_revenue in changed]
