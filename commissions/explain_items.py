"""The item lines of a commission priced by product-level rates (`rules.evaluate_items`), as its explanation shows
them to each party: an affiliate never sees revenue, an advertiser under a margin never sees the payout."""

from decimal import Decimal

from django.utils.translation import gettext as _

from core.money import format_amount, quantize

from .models import Commission


def _rate(kind: str, rate, currency: str) -> str:
    return f"{rate}%" if kind == "percent" else format_amount(Decimal(rate), currency)


def _line_formula(line: dict, rate, result: str, currency: str) -> str:
    """How one line was priced: a percent of the line's amount, a fixed amount per unit, or nothing (no rule)."""
    if not line.get("rule_id") or rate is None:
        return _("no rule pays this item: %(amount)s") % {"amount": format_amount(Decimal(result), currency)}
    if line["kind"] == "percent":
        return (f"{format_amount(Decimal(line['amount']), currency)} × {_rate('percent', rate, currency)} = "
                f"{format_amount(Decimal(result), currency)}")
    return (f"{line['quantity']} × {_rate('fixed', rate, currency)} = "
            f"{format_amount(Decimal(result), currency)}")


def _source(line: dict) -> str:
    if not line.get("rule_id"):
        return "none"
    return "product" if line.get("match") else "program"


def _reason(line: dict) -> str:
    match = line.get("match") or {}
    if "sku" in match:
        why = _("a product rate for its SKU")
    elif "category" in match:
        why = _("a product rate for its category")
    elif line.get("rule_id"):
        why = _("the program's rule: no product rate matches this item")
    else:
        return _("No product rate matches this item and the program has no rule for the affiliate.")
    if line.get("affiliate_override"):
        why += _(", set for this affiliate")
    elif line.get("group"):
        why += _(", for the group “%(group)s”") % {"group": line["group"]}
    return _("Rule #%(id)s: %(why)s.") % {"id": line["rule_id"], "why": why}


def item_lines(c: Commission, *, shows_payout: bool, shows_revenue: bool) -> list[dict] | None:
    """Each item's line (sku, category, quantity, amount, the rule and why it applied, the commission), or None
    for a commission priced as a whole."""
    lines = (c.rule_snapshot or {}).get("items")
    if not lines or c.tier != 1 or c.kind == Commission.Kind.ADJUSTMENT:
        return None
    cur = c.currency
    rows = []
    for line in lines:
        row = {"sku": line.get("sku", ""), "category": line.get("category", ""), "quantity": line.get("quantity", 1),
               "amount": str(quantize(Decimal(line.get("amount") or 0), cur)), "rule_id": line.get("rule_id"),
               "source": _source(line), "match": line.get("match") or {}, "kind": line.get("kind", ""),
               "reason": _reason(line), "refunded": str(quantize(Decimal(line.get("refunded") or 0), cur))}
        if shows_payout:
            row.update(rate=line.get("rate"), commission=str(quantize(Decimal(line.get("commission") or 0), cur)),
                       formula=_line_formula(line, line.get("rate"), line.get("commission") or "0", cur))
        if shows_revenue:
            revenue_rate = line.get("revenue_rate") or line.get("rate")
            row.update(revenue_rate=revenue_rate, revenue=str(quantize(Decimal(line.get("revenue") or 0), cur)),
                       revenue_formula=_line_formula(line, revenue_rate, line.get("revenue") or "0", cur))
        rows.append(row)
    return rows


def items_formula(lines: list[dict], key: str, total, currency: str) -> str:
    """The commission (or revenue) as the sum of its lines: "12.99 € + 4.00 € = 16.99 €"."""
    parts = " + ".join(format_amount(Decimal(line[key]), currency) for line in lines)
    return f"{parts} = {format_amount(Decimal(total), currency)}"
