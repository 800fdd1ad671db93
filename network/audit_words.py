"""An audit entry's details in words ("Was pending, reason: Order cancelled."), never a Python dict on a page."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.money import format_amount, is_currency, parse_amount

MONEY_KEYS = {"amount", "refund"}
# The order a sentence names the details in (PostgreSQL's jsonb keeps no order of its own); others follow, sorted.
ORDER = ["name", "previous", "status", "reason", "code", "partnership", "batch", "amount", "refund", "full",
         "refund_status", "commissions", "ids", "conversions", "adjustments", "reduced", "payouts", "rules", "source",
         "trigger", "period", "reference"]
# A list of ids says how many; the ids themselves are in the API's audit entries.
COUNTED = {
    "ids": lambda n: ngettext("%(count)d commission", "%(count)d commissions", n),
    "adjustments": lambda n: ngettext("%(count)d adjustment", "%(count)d adjustments", n),
    "reduced": lambda n: ngettext("%(count)d reduced", "%(count)d reduced", n),
}


def _phrase(key: str, value) -> str | None:
    phrases = {
        "previous": _("was %(value)s"),
        "reason": _("reason: %(value)s"),
        "refund": _("refund of %(value)s"),
        "amount": _("amount %(value)s"),
        "refund_status": _("%(value)s refund"),
        "code": _("code %(value)s"),
        "partnership": _("partnership #%(value)s"),
        "batch": _("batch #%(value)s"),
        "commissions": _("%(value)s commissions"),
        "conversions": _("%(value)s conversions"),
        "payouts": _("%(value)s payouts"),
        "rules": _("%(value)s rules"),
        "source": _("from %(value)s"),
        "reference": _("reference %(value)s"),
        "status": _("now %(value)s"),
        "trigger": _("started %(value)s"),
        "period": _("period %(value)s"),
        "name": _("“%(value)s”"),
    }
    template = phrases.get(key, key.replace("_", " ") + ": %(value)s")
    return template % {"value": value}


def _money(value, currency: str) -> str:
    try:
        amount = value if isinstance(value, Decimal) else parse_amount(value)
    except ValueError:
        return str(value)
    return format_amount(amount, currency) if is_currency(currency) else f"{amount} {currency}".strip()


def audit_sentence(data, currency: str = "") -> str:
    """`{"previous": "pending", "reason": "Order cancelled"}` -> "Was pending, reason: Order cancelled."."""
    if not data:
        return ""
    if not isinstance(data, dict):
        return str(data)
    currency = data.get("currency") or currency
    parts = []
    for key, value in sorted(data.items(), key=lambda item: (ORDER.index(item[0]) if item[0] in ORDER
                                                               else len(ORDER), item[0])):
        if key == "currency" or value in (None, ""):
            continue
        if key in COUNTED and isinstance(value, list):
            parts.append(COUNTED[key](len(value)) % {"count": len(value)})
        elif key == "full" and isinstance(value, bool):
            parts.append(_("full refund") if value else _("partial refund"))
        elif isinstance(value, bool):
            parts.append(f"{key.replace('_', ' ')}: {_('yes') if value else _('no')}")
        elif isinstance(value, list):
            parts.append(f"{key.replace('_', ' ')}: {len(value)}")
        elif isinstance(value, dict):
            parts.append(f"{key.replace('_', ' ')}: {audit_sentence(value, currency).rstrip('.')}")
        elif key in MONEY_KEYS:
            parts.append(_phrase(key, _money(value, currency)))
        else:
            parts.append(_phrase(key, value))
    if not parts:
        return ""
    sentence = ", ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."
