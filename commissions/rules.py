"""Rule evaluation: which rule pays a conversion, at which (tier) rate, and whether a renewal still pays."""

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.money import quantize
from programs.models import CommissionRule
from programs.selectors import program_rules, rule_for, tier_payout
from tracking.models import Conversion

from .models import Commission

HUNDRED = Decimal(100)
# Commissions that count as the affiliate's approved conversions for tiers (paid ones were approved first).
TIER_STATUSES = (Commission.Status.APPROVED, Commission.Status.PAID)


@dataclass
class Evaluation:
    rule: CommissionRule
    currency: str
    base_amount: Decimal
    amount: Decimal  # quantized payout
    revenue: Decimal  # quantized revenue
    snapshot: dict = field(default_factory=dict)


def plain(value) -> str:
    """A Decimal as a short string for snapshots: 10.000000 -> "10", 12.500000 -> "12.5"."""
    return format(Decimal(value).normalize(), "f")


def add_months(moment: datetime, months: int) -> datetime:
    """Same day and time `months` later (clamped to the month's last day: Jan 31 + 1 = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def tier_period_start(*, moment: datetime, period: str, tz_name: str) -> datetime | None:
    """Start of the tier period holding `moment`, in the network's time zone (None: lifetime)."""
    if period == CommissionRule.TierPeriod.LIFETIME:
        return None
    local = moment.astimezone(zoneinfo.ZoneInfo(tz_name))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == CommissionRule.TierPeriod.WEEK:
        return start - timedelta(days=start.weekday())
    return start.replace(day=1)


def approved_conversions_in_period(*, rule: CommissionRule, conversion: Conversion, tz_name: str) -> int:
    """The affiliate's approved conversions in this program in the current tier period (before this one)."""
    qs = Commission.objects.filter(
        network_id=conversion.network_id, program_id=conversion.program_id, affiliate_id=conversion.affiliate_id,
        tier=1, conversion__isnull=False, status__in=TIER_STATUSES,
    ).exclude(conversion_id=conversion.pk)
    start = tier_period_start(moment=conversion.created_at, period=rule.tier_period, tz_name=tz_name)
    if start is not None:
        qs = qs.filter(conversion__created_at__gte=start, conversion__created_at__lte=conversion.created_at)
    return qs.count()


def first_attributed_conversion(conversion: Conversion) -> Conversion | None:
    """The customer's first conversion attributed to an affiliate (the one renewals descend from)."""
    if not conversion.customer_id:
        return None
    return (
        Conversion.objects.filter(
            network_id=conversion.network_id, advertiser_id=conversion.advertiser_id,
            customer_id=conversion.customer_id, affiliate__isnull=False,
        )
        .exclude(pk=conversion.pk)
        .exclude(attribution=Conversion.Attribution.CUSTOMER)
        .order_by("created_at", "id")
        .first()
    )


def renewal_pays(*, rule: CommissionRule, conversion: Conversion) -> bool:
    """A renewal (attribution `customer`) pays while before first + recurring_months (null: forever, 0: never)."""
    if conversion.attribution != Conversion.Attribution.CUSTOMER:
        return True
    if rule.recurring_months is None:
        return True
    if rule.recurring_months == 0:
        return False
    first = first_attributed_conversion(conversion)
    if first is None:  # no earlier attributed order is known: this one is the customer's first
        return True
    return conversion.created_at < add_months(first.created_at, rule.recurring_months)


def evaluate(conversion: Conversion, *, rules: dict | None = None) -> Evaluation | None:
    """The commission a conversion earns its affiliate, or None (no rule, renewal past its months, zero).
    `rules`: a batch's cache of each program's rules per event."""
    if conversion.affiliate_id is None or conversion.program_id is None:
        return None
    program, affiliate = conversion.program, conversion.affiliate
    candidates = None
    if rules is not None:
        key = (program.pk, conversion.event)
        if key not in rules:
            rules[key] = program_rules(program=program, event=conversion.event)
        candidates = rules[key]
    rule = rule_for(program=program, event=conversion.event, affiliate=affiliate, rules=candidates)
    if rule is None or not renewal_pays(rule=rule, conversion=conversion):
        return None
    count = 0
    if rule.tiers:
        count = approved_conversions_in_period(rule=rule, conversion=conversion, tz_name=program.network.timezone)
    rate = tier_payout(rule, count)
    base = Decimal(conversion.amount)
    if rule.kind == CommissionRule.Kind.PERCENT:
        currency = conversion.currency
        payout = base * rate / HUNDRED
        revenue = payout if rule.revenue is None else base * Decimal(rule.revenue) / HUNDRED
    else:
        # Fixed amounts are in the program's currency.
        currency = program.currency
        payout = rate
        revenue = payout if rule.revenue is None else Decimal(rule.revenue)
    amount, revenue = quantize(payout, currency), quantize(revenue, currency)
    if amount <= 0 and revenue <= 0:
        return None
    snapshot = {
        "rule_id": rule.pk, "event": rule.event, "kind": rule.kind, "payout": plain(rule.payout),
        "revenue": None if rule.revenue is None else plain(rule.revenue), "rate": plain(rate),
        "tiers": rule.tiers, "tier_period": rule.tier_period, "conversions_in_period": count,
        "recurring_months": rule.recurring_months, "affiliate_override": rule.affiliate_id is not None,
        "group": rule.group,
    }
    return Evaluation(rule=rule, currency=currency, base_amount=base, amount=max(amount, Decimal(0)),
                      revenue=max(revenue, Decimal(0)), snapshot=snapshot)
