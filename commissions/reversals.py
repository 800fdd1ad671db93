"""How much of a commission its order's refunds reverse, once a tier true-up has reduced or adjusted it: plain
maths over the commission rows, shared by the refund (`services`) and the true-up (`trueup`), which imports the
services (so the services cannot import it back)."""

from decimal import Decimal

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
