"""How much of a commission its order's refunds reverse, once a tier true-up has reduced or adjusted it, or by item
lines for a commission priced by product-level rates: plain maths over the commission rows, shared by the refund
(`services`) and the true-up (`trueup`), which imports the services (so the services cannot import it back)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from core.money import quantize

from .models import Commission

ZERO = Decimal(0)


def trued_down(commission: Commission) -> tuple[Decimal, Decimal]:
    """(amount, revenue) the true-up took off this commission (zero when it was not reduced)."""
    down = (commission.rule_snapshot or {}).get("trued_down") or {}
    return Decimal(down.get("amount", "0")), Decimal(down.get("revenue", "0"))


def reversal_targets(commission: Commission, *, refunded: Decimal, base: Decimal,
                     original: Commission | None = None) -> tuple[Decimal, Decimal]:
    """The cumulative (amount, revenue) reversed on `commission` once `refunded` of the order `base` is refunded.

    A commission: what the true-up took off, plus the refunded share of the rest. An adjustment (`original`: the
    commission it adjusts): the refunded share of the pair's combined amount, less the original's own share."""
    if base <= 0 or refunded >= base:
        return commission.amount, commission.revenue
    cur = commission.currency
    if original is None:
        down_amount, down_revenue = trued_down(commission)
        return (down_amount + quantize((commission.amount - down_amount) * refunded / base, cur),
                down_revenue + quantize((commission.revenue - down_revenue) * refunded / base, cur))
    down_amount, down_revenue = trued_down(original)
    targets = []
    for own, other, down in ((commission.amount, original.amount, down_amount),
                             (commission.revenue, original.revenue, down_revenue)):
        rest = other - down
        share = quantize((rest + own) * refunded / base, cur) - quantize(rest * refunded / base, cur)
        targets.append(min(max(share, ZERO), own))
    return targets[0], targets[1]


# --- refunds by item (product-level rates) -------------------------------------------------------------------------
def lines_refunded(snapshot: dict, items: list[dict]) -> dict:
    """The snapshot with the refunded items added to its lines' `refunded` (a sku's amount goes to its lines in
    order, each up to its amount); ValidationError when a sku's lines have less left than the refund asks."""
    lines = [dict(line) for line in snapshot.get("items") or []]
    for item in items:
        left = Decimal(item["amount"])
        for line in lines:
            if left <= 0:
                break
            if line.get("sku", "").casefold() != str(item["sku"]).casefold():
                continue
            room = Decimal(line["amount"]) - Decimal(line.get("refunded") or 0)
            taken = min(room, left)
            if taken > 0:
                line["refunded"] = format(Decimal(line.get("refunded") or 0) + taken, "f")
                left -= taken
        if left > 0:
            raise ValidationError({"items": [gettext("%(sku)s: more than what remains of the item to refund.")
                                             % {"sku": item["sku"]}]})
    return {**snapshot, "items": lines}


def items_refunded(commission: Commission) -> Decimal:
    """The order amount refunded by item on this commission's lines (zero: refunds in proportion only)."""
    return sum((Decimal(line.get("refunded") or 0) for line in (commission.rule_snapshot or {}).get("items") or []),
               ZERO)


def item_reversal_targets(commission: Commission, *, refunded: Decimal, base: Decimal) -> tuple[Decimal, Decimal]:
    """The cumulative (amount, revenue) reversed on a commission priced by item lines once `refunded` of the order
    `base` is refunded, some of it by item: each line's refunded share of its own commission, plus the share of
    the rest of the order refunded without naming items, of the rest of the commission."""
    if base <= 0 or refunded >= base:
        return commission.amount, commission.revenue
    cur, lines = commission.currency, commission.rule_snapshot["items"]
    by_item = items_refunded(commission)
    targets = []
    for key, total in (("commission", commission.amount), ("revenue", commission.revenue)):
        reversed_lines = sum((quantize(Decimal(line[key]) * Decimal(line.get("refunded") or 0)
                                       / Decimal(line["amount"]), cur)
                              for line in lines if Decimal(line["amount"]) > 0), ZERO)
        rest_base, rest = base - by_item, total - reversed_lines
        share = quantize(rest * (refunded - by_item) / rest_base, cur) if rest_base > 0 else rest
        targets.append(min(reversed_lines + max(share, ZERO), total))
    return targets[0], targets[1]


# --- refunds after a correction of a refunded order ----------------------------------------------------------------
def refund_rebase(commission: Commission, *, refunded: Decimal, raw: tuple[Decimal, Decimal]) -> dict:
    """What a correction of an order with refunds records (snapshot `refund_rebase`): the refunds so far, what they
    reversed, and what the plain reversal maths (`raw`) says of them for the corrected order. Later refunds start
    from there (`rebased_targets`), so what was refunded is never reversed twice."""
    return {"refunded": format(Decimal(refunded), "f"), "amount": format(commission.reversed_amount, "f"),
            "revenue": format(commission.reversed_revenue, "f"), "raw_amount": format(raw[0], "f"),
            "raw_revenue": format(raw[1], "f"), "items_refunded": format(items_refunded(commission), "f"),
            "trued_down": [format(value, "f") for value in trued_down(commission)],
            "of_amount": format(commission.amount, "f"), "of_revenue": format(commission.revenue, "f")}


def rebased_targets(commission: Commission, *, refunded: Decimal, base: Decimal,
                    raw: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
    """The cumulative (amount, revenue) reversed once `refunded` of `base` is refunded, for a commission whose order
    was corrected after refunds (else `raw`, the plain maths). From the correction on, what remains of the commission
    reverses in proportion to what remains of the order; once items are refunded by name, by the lines' own maths
    from where they stood at the correction. The whole order refunded reverses it all."""
    rebase = (commission.rule_snapshot or {}).get("refund_rebase")
    if not rebase or base <= 0 or refunded >= base:
        return raw
    cur, start = commission.currency, Decimal(rebase["refunded"])
    by_name = items_refunded(commission) > Decimal(rebase.get("items_refunded") or 0)
    # A true-up that lowered the commission after the correction (or a re-true that changed the reduction) moves what
    # stood reversed by the change's share of the order then left: the refunded share was reversed at the old rate
    # and is now at the new one, so the commission pays the new rate on what remains, refunds staying refunded. An
    # adjustment a re-true changed since (`of_`: what it was then) moves it by the change's share then refunded.
    downs = zip(trued_down(commission), rebase.get("trued_down") or (ZERO, ZERO), strict=True)
    targets = []
    for (key, total, raw_value), (down, down_then) in zip(
            (("amount", commission.amount, raw[0]), ("revenue", commission.revenue, raw[1])), downs, strict=True):
        before = (Decimal(rebase[key]) + quantize((down - Decimal(down_then)) * (base - start) / base, cur)
                  + quantize((total - Decimal(rebase.get(f"of_{key}", total))) * start / base, cur))
        if by_name:
            value = before + max(raw_value - Decimal(rebase[f"raw_{key}"]), ZERO)
        elif base > start:
            value = before + quantize((total - before) * (refunded - start) / (base - start), cur)
        else:
            value = total
        targets.append(min(max(value, before), total))
    return targets[0], targets[1]
