"""A network's payout settings (`Network.payout_settings`, JSON): the schema, its validation and its meaning.

The JSON schema (every key optional; missing keys take the defaults shown)::

    {
      "schedule": {
        "kind": "manual",        # "weekly" | "monthly" | "manual" (manual: only POST /api/v1/payout-batches)
        "weekday": 0,            # weekly: 0 = Monday ... 6 = Sunday (in the network's time zone)
        "day": 1                 # monthly: day of the month 1..31 (clamped to the month's last day)
      },
      "thresholds": {"EUR": "50.00", "JPY": "5000"},   # minimum approved balance per currency to be paid;
                                                         # a currency not listed: any positive balance
      "fee": {
        "kind": "none",          # "none" | "flat" | "percent"
        "flat": {"EUR": "1.00"}, # flat: fee per payout, per currency (a currency not listed: no fee)
        "percent": "0",          # percent: of the payout amount, rounded half up to minor units
        "paid_by": "affiliate"   # "affiliate" (deducted from what is sent) | "network" (recorded only)
      }
    }

Amounts are strings (never floats) with at most the currency's minor units; thresholds and flat fees are >= 0,
percent is 0..100. A scheduled batch runs once per period: the ISO week (weekly) or the month (monthly), on or
after the due day, so a beat that was down catches up later in the same period.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.money import is_currency, parse_amount, quantize

SCHEDULE_KINDS = ("weekly", "monthly", "manual")
FEE_KINDS = ("none", "flat", "percent")
FEE_PAYERS = ("affiliate", "network")
ZERO = Decimal(0)

DEFAULTS: dict = {
    "schedule": {"kind": "manual", "weekday": 0, "day": 1},
    "thresholds": {},
    "fee": {"kind": "none", "flat": {}, "percent": "0", "paid_by": "affiliate"},
}


@dataclass(frozen=True)
class PayoutPolicy:
    schedule_kind: str = "manual"
    weekday: int = 0
    day: int = 1
    thresholds: dict[str, Decimal] = field(default_factory=dict)
    fee_kind: str = "none"
    fee_flat: dict[str, Decimal] = field(default_factory=dict)
    fee_percent: Decimal = ZERO
    fee_paid_by: str = "affiliate"

    def threshold(self, currency: str) -> Decimal:
        return self.thresholds.get(currency, ZERO)

    def fee_for(self, amount: Decimal, currency: str) -> Decimal:
        """The fee on a payout of `amount` (whole minor units)."""
        if self.fee_kind == "flat":
            return quantize(self.fee_flat.get(currency, ZERO), currency)
        if self.fee_kind == "percent":
            return quantize(amount * self.fee_percent / Decimal(100), currency)
        return ZERO

    def period_due(self, today: date) -> str | None:
        """The period key when a scheduled batch is due on `today` (local date), else None."""
        if self.schedule_kind == "weekly":
            year, week, weekday = today.isocalendar()
            return f"weekly:{year}-W{week:02d}" if weekday - 1 >= self.weekday else None
        if self.schedule_kind == "monthly":
            last = calendar.monthrange(today.year, today.month)[1]
            return f"monthly:{today.year}-{today.month:02d}" if today.day >= min(self.day, last) else None
        return None


def _money_map(value, where: str, errors: dict) -> dict[str, Decimal]:
    if not isinstance(value, dict):
        errors[where] = [_("Expected an object of currency -> amount.")]
        return {}
    out = {}
    for currency, raw in value.items():
        try:
            if not is_currency(currency):
                raise ValueError(_("'%(currency)s' is not an ISO 4217 currency code.") % {"currency": currency})
            amount = parse_amount(raw)
            if amount < 0:
                raise ValueError(_("Must not be negative."))
            if amount != quantize(amount, currency):
                raise ValueError(_("At most the minor units of %(currency)s.") % {"currency": currency})
            if amount >= Decimal(10) ** 12:
                raise ValueError(_("Too large."))
        except ValueError as exc:
            errors[f"{where}.{currency}"] = [str(exc)]
            continue
        out[currency] = amount
    return out


def _int_in(value, low: int, high: int, where: str, errors: dict) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[where] = [_("An integer from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return low
    return value


def settings_normalize(raw) -> dict:
    """Validate a (partial) settings object merged over the defaults; raise ValidationError with field errors.

    Returns the full normalized JSON (amounts as strings) to store in `Network.payout_settings`.
    """
    if not isinstance(raw, dict):
        raise ValidationError({"detail": [_("Payout settings are a JSON object.")]})
    errors: dict = {}
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        errors["detail"] = [ngettext("Unknown key: %(keys)s.", "Unknown keys: %(keys)s.", len(unknown)) % {
            "keys": ", ".join(sorted(map(str, unknown)))}]
    schedule = raw.get("schedule", {})
    fee = raw.get("fee", {})
    for name, part in (("schedule", schedule), ("fee", fee)):
        if not isinstance(part, dict):
            errors[name] = [_("Expected an object.")]
    schedule = (DEFAULTS["schedule"] | schedule) if isinstance(schedule, dict) else DEFAULTS["schedule"]
    fee = (DEFAULTS["fee"] | fee) if isinstance(fee, dict) else DEFAULTS["fee"]
    if schedule["kind"] not in SCHEDULE_KINDS:
        errors["schedule.kind"] = [_("One of %(choices)s.") % {"choices": ", ".join(SCHEDULE_KINDS)}]
    weekday = _int_in(schedule["weekday"], 0, 6, "schedule.weekday", errors)
    day = _int_in(schedule["day"], 1, 31, "schedule.day", errors)
    thresholds = _money_map(raw.get("thresholds", {}), "thresholds", errors)
    if fee["kind"] not in FEE_KINDS:
        errors["fee.kind"] = [_("One of %(choices)s.") % {"choices": ", ".join(FEE_KINDS)}]
    if fee["paid_by"] not in FEE_PAYERS:
        errors["fee.paid_by"] = [_("One of %(choices)s.") % {"choices": ", ".join(FEE_PAYERS)}]
    flat = _money_map(fee["flat"], "fee.flat", errors)
    try:
        percent = parse_amount(fee["percent"])
        if not ZERO <= percent <= 100:
            raise ValueError(_("From 0 to 100."))
    except ValueError as exc:
        errors["fee.percent"] = [str(exc)]
        percent = ZERO
    if errors:
        raise ValidationError(errors)
    return {
        "schedule": {"kind": schedule["kind"], "weekday": weekday, "day": day},
        "thresholds": {cur: str(amount) for cur, amount in sorted(thresholds.items())},
        "fee": {"kind": fee["kind"], "flat": {cur: str(a) for cur, a in sorted(flat.items())},
                "percent": str(percent), "paid_by": fee["paid_by"]},
    }


def payout_policy(network) -> PayoutPolicy:
    """The network's settings as a typed policy. Stored settings that no longer validate fall back to defaults
    (a manual schedule, no threshold, no fee), so a bad row never pays anyone by surprise."""
    try:
        data = settings_normalize(network.payout_settings or {})
    except ValidationError:
        data = settings_normalize({})
    return PayoutPolicy(
        schedule_kind=data["schedule"]["kind"], weekday=data["schedule"]["weekday"], day=data["schedule"]["day"],
        thresholds={cur: Decimal(a) for cur, a in data["thresholds"].items()},
        fee_kind=data["fee"]["kind"], fee_flat={cur: Decimal(a) for cur, a in data["fee"]["flat"].items()},
        fee_percent=Decimal(data["fee"]["percent"]), fee_paid_by=data["fee"]["paid_by"],
    )
