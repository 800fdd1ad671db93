"""An audit entry's details in words ("Was pending, reason: Order cancelled."), never a Python dict on a page."""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from core.dates import format_when
from core.money import format_amount, is_currency, parse_amount

MONEY_KEYS = {"amount", "refund", "amount_before", "revenue", "revenue_before", "reversed"}
# The states and triggers an entry records by their codes ("previous": "on_hold"), in the reader's words.
STATE_KEYS = {"previous", "status", "trigger", "refund_status"}
STATE_WORDS = {
    "pending": pgettext_lazy("state", "pending"), "approved": pgettext_lazy("state", "approved"),
    "rejected": pgettext_lazy("state", "rejected"), "reversed": pgettext_lazy("state", "reversed"),
    "on_hold": pgettext_lazy("state", "on hold"), "paid": pgettext_lazy("state", "paid"),
    "processing": pgettext_lazy("state", "processing"), "failed": pgettext_lazy("state", "failed"),
    "active": pgettext_lazy("state", "active"), "suspended": pgettext_lazy("state", "suspended"),
    "completed": pgettext_lazy("state", "completed"), "manual": pgettext_lazy("trigger", "manual"),
    "schedule": pgettext_lazy("trigger", "scheduled"), "full": pgettext_lazy("refund", "full"),
    "partial": pgettext_lazy("refund", "partial"),
}
# The order a sentence names the details in (PostgreSQL's jsonb keeps no order of its own); others follow, sorted.
ORDER = ["name", "previous", "status", "reason", "code", "partnership", "batch", "amount", "refund", "full",
         "refund_status", "commissions", "ids", "conversions", "adjustments", "reduced", "payouts", "rules", "source",
         "trigger", "period", "reference"]
# A list of ids says how many; the ids themselves are in the API's audit entries.
COUNTED = {
    "ids": lambda n: ngettext("%(count)d commission", "%(count)d commissions", n),
    "adjustments": lambda n: ngettext("%(count)d adjustment", "%(count)d adjustments", n),
    "reduced": lambda n: ngettext("%(count)d reduced", "%(count)d reduced", n),
    "affiliates": lambda n: ngettext("%(count)d affiliate", "%(count)d affiliates", n),
}
# What an entry is about (`target_type`, a model's label) in the reader's words; another label shows as it is.
TARGETS = {
    "commissions.commission": gettext_lazy("Commission"), "commissions.tiertrueup": gettext_lazy("Tier true-up"),
    "network.advertiser": gettext_lazy("Advertiser"), "network.affiliate": gettext_lazy("Affiliate"),
    "network.network": gettext_lazy("Network"), "network.partnergroup": gettext_lazy("Partner group"),
    "network.membership": gettext_lazy("Member"), "network.apikey": gettext_lazy("API key"),
    "payouts.payout": gettext_lazy("Payout"), "payouts.payoutbatch": gettext_lazy("Payout batch"),
    "payouts.payoutmethod": gettext_lazy("Payout method"), "programs.program": gettext_lazy("Program"),
    "programs.couponcode": gettext_lazy("Coupon code"), "programs.creative": gettext_lazy("Creative"),
    "programs.partnership": gettext_lazy("Partnership"), "programs.trackinglink": gettext_lazy("Tracking link"),
    "tracking.conversion": gettext_lazy("Conversion"), "tracking.webhookendpoint": gettext_lazy("Webhook"),
}


def period_shown(key: str) -> str:
    """A scheduled payout batch's period key ("monthly:2026-11", "weekly:2026-W48") in words; another as it is."""
    kind, _sep, period = str(key or "").partition(":")
    if kind == "monthly" and period:
        return _("month %(period)s") % {"period": period}
    if kind == "weekly" and period:
        return _("week %(period)s") % {"period": period}
    return str(key or "")


def audit_target(label: str) -> str:
    return str(TARGETS.get(label, label))


# A yes/no detail as words: (when true, when false).
FLAGS = {"items_changed": (gettext_lazy("items changed"), gettext_lazy("items unchanged"))}


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
        "amount_before": _("amount before %(value)s"),
        "revenue": _("revenue %(value)s"),
        "revenue_before": _("revenue before %(value)s"),
        "reversed": _("reversed %(value)s"),
        "rules_added": _("%(value)s rules added"),
        "group": _("group #%(value)s"),
        "at": _("at %(value)s"),
        "changed": _("changed: %(value)s"),
    }
    template = phrases.get(key, key.replace("_", " ") + ": %(value)s")
    return template % {"value": value}


def _money(value, currency: str) -> str:
    try:
        amount = value if isinstance(value, Decimal) else parse_amount(value)
    except ValueError:
        return str(value)
    return format_amount(amount, currency) if is_currency(currency) else f"{amount} {currency}".strip()


def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


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
        elif key in FLAGS and isinstance(value, bool):
            parts.append(str(FLAGS[key][0 if value else 1]))
        elif key == "changed" and isinstance(value, dict):  # what changed, not the old text of each field
            parts.append(_phrase(key, ", ".join(name.replace("_", " ") for name in sorted(value))))
        elif key == "at" and isinstance(value, str) and _moment(value):
            parts.append(_phrase(key, format_when(_moment(value))))
        elif key == "period" and isinstance(value, str) and period_shown(value) != value:
            parts.append(period_shown(value))
        elif key in STATE_KEYS and isinstance(value, str) and value in STATE_WORDS:
            parts.append(_phrase(key, STATE_WORDS[value]))
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
