"""Rule evaluation: which rule pays a conversion (`rule_for`), at which (tier) rate, whether a renewal still pays,
and the one pricing function (`commission_amounts`, `rule_price`) every commission's amounts come from: first tier,
second tier, per click and the tier true-up. The pure tier maths (`tier_rate`, `tier_threshold`) sit with the rule
in programs/models.py, where the marketplace reads them too; writing the rows is `services`' and `compute`'s."""

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.money import quantize
from network.models import Affiliate
from programs.models import CommissionRule, Program, tier_rate
from tracking.items import item_lines
from tracking.models import Conversion

from .models import Commission

HUNDRED = Decimal(100)
# Commissions whose conversions count towards tiers: all but rejected and (fully) reversed ones, as Tapfiliate and
# PartnerStack count them. Partial refunds keep the conversion counted; the amount basis counts the net sale.
TIER_STATUSES = (Commission.Status.PENDING, Commission.Status.ON_HOLD, Commission.Status.APPROVED,
                 Commission.Status.PAID)


@dataclass
class Evaluation:
    rule: CommissionRule
    currency: str
    base_amount: Decimal
    amount: Decimal  # quantized payout
    revenue: Decimal  # quantized revenue
    snapshot: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RuleParty:
    """Whom rules are chosen for: an affiliate and the partner group it was in (`party_at_sale`)."""

    pk: int
    group_id: int | None


def party_at_sale(affiliate: Affiliate, snapshot: dict) -> Affiliate | RuleParty:
    """The affiliate as its commission was priced: in the partner group it was in then (`affiliate_group_id` in the
    snapshot), not today's, so a correction prices new lines as the sale was priced. Snapshots older than that key:
    the group of the rule that paid, else today's group."""
    if "affiliate_group_id" in snapshot:
        group_id = snapshot["affiliate_group_id"]
    elif snapshot.get("group_id"):
        group_id = snapshot["group_id"]
    else:
        return affiliate
    return affiliate if group_id == affiliate.group_id else RuleParty(pk=affiliate.pk, group_id=group_id)


def plain(value) -> str:
    """A Decimal as a short string for snapshots: 10.000000 -> "10", 12.500000 -> "12.5"."""
    return format(Decimal(value).normalize(), "f")


def program_rules(*, program: Program, event: str, as_of: datetime | None = None) -> list[CommissionRule]:
    """A program's rules for an event, newest first (what `rule_for` chooses from). `as_of`: the rules that existed
    then (rules are only ever added, so these are exactly the ones a commission priced then chose from)."""
    rules = CommissionRule.objects.filter(network_id=program.network_id, program=program, event=event)
    if as_of is not None:
        rules = rules.filter(created_at__lte=as_of)
    return list(rules.select_related("group").order_by("-id"))


def rule_for(*, program: Program, event: str, affiliate: Affiliate | None,
             rules: list[CommissionRule] | None = None) -> CommissionRule | None:
    """The rule that applies: one for this affiliate > one for its group > the default (neither set).

    Among equals the newest wins, so adding a rule replaces the old one without deleting history. `rules`:
    `program_rules` read once for many conversions.
    """
    if rules is None:
        rules = program_rules(program=program, event=event)
    # Product rules (a `match`) pay only the items they match (`item_rule_for`), never a whole order.
    return _by_precedence([rule for rule in rules if not rule.match], affiliate)


def item_rule_for(item: dict, *, affiliate: Affiliate | RuleParty | None,
                  rules: list[CommissionRule]) -> CommissionRule | None:
    """The rule that pays one of a conversion's items: among the product rules matching it, one for this affiliate
    > one for its group > the default (newest first among equals); with none, the program's rule (`rule_for`)."""
    matching = [rule for rule in rules if rule.match and rule.matches(item)]
    return _by_precedence(matching, affiliate) or _by_precedence([rule for rule in rules if not rule.match],
                                                                  affiliate)


def _by_precedence(rules: list[CommissionRule], affiliate: Affiliate | RuleParty | None) -> CommissionRule | None:
    if affiliate is not None:
        for rule in rules:
            if rule.affiliate_id == affiliate.pk:
                return rule
        if affiliate.group_id is not None:
            for rule in rules:
                if rule.affiliate_id is None and rule.group_id == affiliate.group_id:
                    return rule
    for rule in rules:
        if rule.affiliate_id is None and rule.group_id is None:
            return rule
    return None


def tier_payout(rule: CommissionRule, conversions_in_period) -> Decimal:
    """The payout rate for an affiliate with this many conversions (or this sales amount, for a rule whose
    `tier_basis` is amount) in the tier period: the highest tier reached wins; below every tier the rule's own
    `payout` applies."""
    return tier_rate(payout=rule.payout, tiers=rule.tiers, reached=conversions_in_period)


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


def tier_period_bounds(*, moment: datetime, period: str, tz_name: str) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the tier period holding `moment`, in the network's time zone ((None, None): lifetime)."""
    start = tier_period_start(moment=moment, period=period, tz_name=tz_name)
    if start is None:
        return None, None
    # Aware arithmetic on a ZoneInfo time is wall-clock: the end is local midnight across a DST change too.
    return start, start + timedelta(days=7) if period == CommissionRule.TierPeriod.WEEK else add_months(start, 1)


@dataclass
class TierProgress:
    """An affiliate's conversions in a tier period that count (see TIER_STATUSES) and their net sales."""

    conversions: int = 0
    amount: Decimal = Decimal(0)  # order amounts net of refunds, in the program currency only

    def reached(self, basis: str) -> Decimal:
        return self.amount if basis == CommissionRule.TierBasis.AMOUNT else Decimal(self.conversions)


def tier_progress(*, network_id: int, program_id: int, affiliate_id: int, event: str, currency: str,
                  start: datetime | None, until: datetime, inclusive: bool = True,
                  exclude_conversion_id: int | None = None) -> TierProgress:
    """The affiliate's counted conversions of this program and event from `start` (None: ever) to `until`, and the
    sum of their net order amounts in `currency` (orders in another currency add to the count only)."""
    qs = Commission.objects.filter(
        network_id=network_id, program_id=program_id, affiliate_id=affiliate_id, tier=1, kind=event,
        conversion__isnull=False, status__in=TIER_STATUSES,
    )
    if exclude_conversion_id is not None:
        qs = qs.exclude(conversion_id=exclude_conversion_id)
    qs = qs.filter(**{"conversion__created_at__lte" if inclusive else "conversion__created_at__lt": until})
    if start is not None:
        qs = qs.filter(conversion__created_at__gte=start)
    progress = TierProgress()
    # Added in Python: SQLite would sum decimals as floats.
    for order_currency, base, refunded in qs.values_list("conversion__currency", "base_amount", "refunded_base"):
        progress.conversions += 1
        if order_currency == currency:
            progress.amount += Decimal(base) - Decimal(refunded)
    return progress


def conversion_tier_progress(*, rule: CommissionRule, conversion: Conversion, tz_name: str,
                             batch: dict | None = None) -> TierProgress:
    """What the affiliate reached in the current tier period before this conversion. `batch`: a batch's tally of
    the conversions it evaluated before this one (not yet written), added in."""
    start = tier_period_start(moment=conversion.created_at, period=rule.tier_period, tz_name=tz_name)
    progress = tier_progress(
        network_id=conversion.network_id, program_id=conversion.program_id, affiliate_id=conversion.affiliate_id,
        event=conversion.event, currency=conversion.program.currency, start=start, until=conversion.created_at,
        exclude_conversion_id=conversion.pk,
    )
    if batch is not None:
        key = (conversion.program_id, conversion.affiliate_id, conversion.event, start)
        earlier = batch.setdefault(key, TierProgress())
        progress.conversions += earlier.conversions
        progress.amount += earlier.amount
        if conversion.status != Conversion.Status.REJECTED:
            earlier.conversions += 1
            if conversion.currency == conversion.program.currency:
                earlier.amount += Decimal(conversion.amount) - Decimal(conversion.refunded_amount or 0)
    return progress


def commission_amounts(*, kind: str, rate: Decimal, revenue_rate, base: Decimal, currency: str, units: int = 1
                       ) -> tuple[Decimal, Decimal]:
    """(payout, revenue) of a commission at `rate`, quantized: percent of `base`, or fixed (per unit: `units`
    clicks). Revenue follows the payout when the rule sets none (`revenue_rate` None). Every commission's amounts
    come from here: rule evaluation, clicks, the second tier and the period's true-up."""
    if kind == CommissionRule.Kind.PERCENT:
        payout = base * rate / HUNDRED
        revenue = payout if revenue_rate is None else base * Decimal(revenue_rate) / HUNDRED
    else:
        payout = rate * units
        revenue = payout if revenue_rate is None else Decimal(revenue_rate) * units
    return quantize(payout, currency), quantize(revenue, currency)


def rule_terms(rule: CommissionRule) -> dict:
    """The rule's terms as a commission's snapshot records them (what it was computed with)."""
    return {"rule_id": rule.pk, "event": rule.event, "kind": rule.kind, "payout": plain(rule.payout),
            "revenue": None if rule.revenue is None else plain(rule.revenue)}


def rule_price(rule: CommissionRule, *, rate: Decimal, base: Decimal, currency: str, units: int = 1,
               details: dict | None = None) -> tuple[Decimal, Decimal, dict]:
    """(amount, revenue, snapshot) a rule pays at `rate` on `base` (or for `units` clicks): the snapshot is the
    rule's terms plus `details`. The first tier and clicks price with it."""
    amount, revenue = commission_amounts(kind=rule.kind, rate=rate, revenue_rate=rule.revenue, base=base,
                                         currency=currency, units=units)
    return amount, revenue, {**rule_terms(rule), **(details or {})}


def second_tier_amount(*, parent_amount: Decimal, percent, currency: str) -> Decimal:
    """The referrer's override: `percent` of the referred affiliate's commission (revenue follows it)."""
    amount, _revenue = commission_amounts(kind=CommissionRule.Kind.PERCENT, rate=Decimal(percent), revenue_rate=None,
                                          base=Decimal(parent_amount), currency=currency)
    return amount


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


# A renewal due at the end of the rule's last month is paid that day or, after card retries, a few days later.
RENEWAL_GRACE = timedelta(days=7)


def renewal_pays(*, rule: CommissionRule, conversion: Conversion) -> bool:
    """A renewal (attribution `customer`) pays the first `recurring_months` months' renewals: until first +
    recurring_months (+ RENEWAL_GRACE, so the renewal falling due on that day counts: with 1, a monthly
    subscription's first renewal pays and its second does not). Null: forever; 0: never."""
    if conversion.attribution != Conversion.Attribution.CUSTOMER:
        return True
    if rule.recurring_months is None:
        return True
    if rule.recurring_months == 0:
        return False
    first = first_attributed_conversion(conversion)
    if first is None:  # no earlier attributed order is known: this one is the customer's first
        return True
    return conversion.created_at < add_months(first.created_at, rule.recurring_months) + RENEWAL_GRACE


def evaluate(conversion: Conversion, *, rules: dict | None = None, batch: dict | None = None) -> Evaluation | None:
    """The commission a conversion earns its affiliate, or None (no rule, renewal past its months, zero).
    `rules`: a batch's cache of each program's rules per event; `batch`: its tally of tier progress.

    A conversion with items, in a program with product rules for its event, earns the sum of its items' lines
    (`evaluate_items`); any other conversion is priced as a whole by the program's rule."""
    if conversion.affiliate_id is None or conversion.program_id is None:
        return None
    program, affiliate = conversion.program, conversion.affiliate
    rules = {} if rules is None else rules
    key = (program.pk, conversion.event)
    if key not in rules:
        rules[key] = program_rules(program=program, event=conversion.event)
    candidates = rules[key]
    if conversion.items and any(rule.match for rule in candidates):
        items = item_lines(conversion.items)
        if items is not None and conversion.currency == program.currency:
            return evaluate_items(conversion, items=items, rules=candidates, batch=batch)
    rule = rule_for(program=program, event=conversion.event, affiliate=affiliate, rules=candidates)
    if rule is None or not renewal_pays(rule=rule, conversion=conversion):
        return None
    progress = TierProgress()
    if rule.tiers:
        progress = conversion_tier_progress(rule=rule, conversion=conversion, tz_name=program.network.timezone,
                                            batch=batch)
    rate = tier_payout(rule, progress.reached(rule.tier_basis))
    base = Decimal(conversion.amount)
    # Fixed amounts are in the program's currency.
    currency = conversion.currency if rule.kind == CommissionRule.Kind.PERCENT else program.currency
    details = {"rate": plain(rate), "tiers": rule.tiers, "tier_period": rule.tier_period,
               "tier_basis": rule.tier_basis, "conversions_in_period": progress.conversions,
               "amount_in_period": plain(progress.amount), "recurring_months": rule.recurring_months,
               **rule_target(rule, affiliate)}
    amount, revenue, snapshot = rule_price(rule, rate=rate, base=base, currency=currency, details=details)
    if amount <= 0 and revenue <= 0:
        return None
    return Evaluation(rule=rule, currency=currency, base_amount=base, amount=max(amount, Decimal(0)),
                      revenue=max(revenue, Decimal(0)), snapshot=snapshot)


# --- product-level rates ------------------------------------------------------------------------------------------


def rule_target(rule: CommissionRule, affiliate: Affiliate) -> dict:
    """Whom the rule was for, as a snapshot records it (the explanation names the affiliate override or group), and
    the affiliate's partner group then (`affiliate_group_id`: a correction chooses rules for that group)."""
    return {"affiliate_override": rule.affiliate_id is not None, "group": rule.group.name if rule.group_id else "",
            "group_id": rule.group_id, "affiliate_group_id": affiliate.group_id}


def price_lines(conversion: Conversion, *, items: list[dict], rules: list[CommissionRule],
                batch: dict | None = None, party: Affiliate | RuleParty | None = None
                ) -> tuple[list[dict], list[CommissionRule]]:
    """Each item's line priced by its rule (`item_rule_for`) at that rule's (tier) rate, a percent of the line's
    amount or a fixed amount per unit, quantized per line (a line no rule pays: zero); and the rules used. The one
    pricing of lines: a new commission's (`evaluate_items`) and a corrected order's (`conversion_adjust`, whose
    `party` is the affiliate in its group at the sale)."""
    program, affiliate = conversion.program, party or conversion.affiliate
    currency = conversion.currency  # the program's (checked by the callers): percent and fixed lines alike
    progress_by_period: dict[str, TierProgress] = {}
    lines, used = [], []
    for item in items:
        rule = item_rule_for(item, affiliate=affiliate, rules=rules)
        line = {"sku": item["sku"], "category": item["category"], "quantity": item["quantity"],
                "amount": plain(item["amount"]), "rule_id": None, "match": {}, "kind": "", "rate": None,
                "revenue_rate": None, "commission": plain(quantize(Decimal(0), currency)),
                "revenue": plain(quantize(Decimal(0), currency)), "affiliate_override": False, "group": ""}
        if rule is not None and renewal_pays(rule=rule, conversion=conversion):
            progress = TierProgress()
            if rule.tiers:  # one reading per tier period: the batch's tally counts this conversion once
                if rule.tier_period not in progress_by_period:
                    progress_by_period[rule.tier_period] = conversion_tier_progress(
                        rule=rule, conversion=conversion, tz_name=program.network.timezone, batch=batch)
                progress = progress_by_period[rule.tier_period]
            rate = tier_payout(rule, progress.reached(rule.tier_basis))
            amount, revenue = commission_amounts(kind=rule.kind, rate=rate, revenue_rate=rule.revenue,
                                                 base=item["amount"], currency=currency, units=item["quantity"])
            amount, revenue = max(amount, Decimal(0)), max(revenue, Decimal(0))
            used.append(rule)
            line.update(rule_id=rule.pk, match=rule.match or {}, kind=rule.kind, rate=plain(rate),
                        revenue_rate=None if rule.revenue is None else plain(rule.revenue), commission=plain(amount),
                        revenue=plain(revenue), affiliate_override=rule.affiliate_id is not None,
                        group=rule.group.name if rule.group_id else "")
        lines.append(line)
    return lines, used


def lines_total(lines: list[dict], key: str) -> Decimal:
    """The commission ("commission") or revenue ("revenue") of priced lines: their sum."""
    return sum((Decimal(line[key]) for line in lines), Decimal(0))


def evaluate_items(conversion: Conversion, *, items: list[dict], rules: list[CommissionRule],
                   batch: dict | None = None) -> Evaluation | None:
    """A conversion priced item by item (`price_lines`); the commission is the lines' sum. Its snapshot lists the
    lines (the explanation shows them); the whole-order rule chosen as today, else the first line's, is the
    commission's `rule`. Lines are not trued up at the period's end (no top-level tiers)."""
    program, affiliate = conversion.program, conversion.affiliate
    lines, used = price_lines(conversion, items=items, rules=rules, batch=batch)
    total_amount, total_revenue = lines_total(lines, "commission"), lines_total(lines, "revenue")
    if total_amount <= 0 and total_revenue <= 0:
        return None
    whole = rule_for(program=program, event=conversion.event, affiliate=affiliate, rules=rules)
    rule = whole if whole is not None and whole in used else used[0]
    snapshot = {**rule_terms(rule), **rule_target(rule, affiliate), "recurring_months": rule.recurring_months,
                "items": lines, "items_amount": plain(sum((i["amount"] for i in items), Decimal(0)))}
    return Evaluation(rule=rule, currency=conversion.currency, base_amount=Decimal(conversion.amount),
                      amount=total_amount, revenue=total_revenue, snapshot=snapshot)
