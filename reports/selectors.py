"""The report query: clicks, conversions and money from the day tables (per network-local day and dimension:
tracking.daily, commissions.daily), grouped by one dimension and narrowed to what a membership may see. A
report's cost grows with its keys times its days, not with the clicks or conversions behind them."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import format_decimal
from django.db.models import QuerySet, Sum

from commissions.models import CommissionDay
from core.days import local_day_bounds
from core.money import babel_locale, quantize
from core.replica import replica_reads
from network import daily
from network.models import Affiliate, Membership, Network, Role
from programs.models import SUB_FIELDS, Program
from tracking.models import ClickDay, ConversionDay

TIME_GROUPS = ("day", "week", "month")
SUB_GROUPS = SUB_FIELDS
GROUPS = (*TIME_GROUPS, "program", "affiliate", *SUB_GROUPS, "country")
# Non-time groupings (sub IDs are unbounded) return the busiest rows only; totals always cover everything.
MAX_ROWS = 1000
COUNTERS = ("clicks", "unique_clicks", "conversions")
MONEY = ("revenue", "payout", "profit")


@dataclass
class ReportQuery:
    network: Network
    membership: Membership
    group_by: str
    date_from: date
    date_to: date
    currency: str
    program: Program | None = None
    affiliate: Affiliate | None = None

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.network.timezone)

    @property
    def role(self) -> str:
        return "operator" if self.membership.is_operator else self.membership.role

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) of the inclusive local date range, as aware datetimes (DST-correct per day)."""
        return local_day_bounds(self.date_from, self.date_to, tz=self.tz)


def columns_for(role: str) -> list[str]:
    """What a party may see: affiliates no revenue (the advertiser's price, its "cost"), sales (what the customers
    paid) nor profit; advertisers no payout (revenue and payout side by side would disclose the network's margin);
    operators everything."""
    if role == Role.AFFILIATE:
        return ["clicks", "unique_clicks", "conversions", "payout", "conversion_rate", "epc"]
    if role == Role.ADVERTISER:
        return ["clicks", "unique_clicks", "conversions", "sales", "revenue", "conversion_rate", "epc"]
    return ["clicks", "unique_clicks", "conversions", "sales", "revenue", "payout", "profit", "conversion_rate", "epc"]


def _scope(queryset: QuerySet, q: ReportQuery) -> QuerySet:
    """The membership's own rows (`visible_to`), then the explicit program/affiliate filters."""
    queryset = queryset.visible_to(q.membership)
    if q.program is not None:
        queryset = queryset.filter(program=q.program)
    if q.affiliate is not None:
        queryset = queryset.filter(affiliate=q.affiliate)
    return queryset


# A report's dimension -> its column in the day tables.
DIMENSIONS = {"program": "program_id", "affiliate": "affiliate_id", "country": "country",
              **{name: name for name in SUB_GROUPS}}


def _days(model, q: ReportQuery, *sums: str) -> dict:
    """{key: sums} of one day table over the query's local days, grouped by the report's dimension. Time groups
    are read by day and folded into weeks and months here (at most a few hundred days)."""
    column = "day" if q.group_by in TIME_GROUPS else DIMENSIONS[q.group_by]
    found: dict = {}
    if model is ClickDay:
        # Clicks carry no currency: those of the programs priced in it. Their ids as a list, not a subquery:
        # PostgreSQL then checks them inside the index-only scan of the days instead of joining after it.
        priced = {"program_id__in": list(Program.objects.for_network(q.network).filter(currency=q.currency)
                                         .values_list("pk", flat=True))}
    else:
        priced = {"currency": q.currency}
    # Per partnership unless the report groups by a sub ID or the country; with the differences not folded in yet.
    for table in daily.with_changes(model, by_partnership=column in ("day", "program_id", "affiliate_id")):
        rows = _scope(table.objects.for_network(q.network), q).filter(day__gte=q.date_from, day__lte=q.date_to,
                                                                      **priced)
        if model is ConversionDay:
            rows = rows.exclude(affiliate_id=0)  # attributed conversions only (0: none)
        for row in rows.order_by().values(column).annotate(**{name: Sum(name) for name in sums}):
            key = _bucket(q.group_by, row[column]) if q.group_by in TIME_GROUPS else row[column]
            into = found.setdefault(key, dict.fromkeys(sums, 0))
            for name in sums:
                into[name] += row[name] or 0
    return found


def _bucket(group_by: str, day: date) -> date:
    """The first day of `day`'s week (Monday) or month, or the day itself."""
    if group_by == "week":
        return day - timedelta(days=day.weekday())
    if group_by == "month":
        return day.replace(day=1)
    return day


def _time_keys(q: ReportQuery) -> list[date]:
    """Every bucket of the range, so a chart over time shows the empty days too."""
    keys, day = [], q.date_from
    if q.group_by == "week":
        day -= timedelta(days=day.weekday())
    elif q.group_by == "month":
        day = day.replace(day=1)
    while day <= q.date_to:
        keys.append(day)
        if q.group_by == "day":
            day += timedelta(days=1)
        elif q.group_by == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return keys


def _time_label(group_by: str, day: date) -> tuple[str, str]:
    if group_by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}", f"Week of {day.isoformat()}"
    if group_by == "month":
        return day.strftime("%Y-%m"), day.strftime("%B %Y")
    return day.isoformat(), day.isoformat()


def conversion_rate(conversions: int, unique_clicks: int) -> str | None:
    """Conversions that came through a click per unique click (coupon and renewal sales have no click: they count
    as conversions, never in the rate); none (shown "—") without clicks, or when more click conversions than unique
    clicks fall in the range (a click of the day before, repeat orders)."""
    if not unique_clicks or conversions > unique_clicks:
        return None
    return str((Decimal(conversions) / unique_clicks).quantize(Decimal("0.0001")))


def rate_percent(rate: str, places: int) -> str:
    """A rate ("0.0252") as a percentage the locale's way, its sign left to the page: "2.52" / "2,52"."""
    return format_decimal(Decimal(rate) * 100, format="0." + "0" * places, locale=babel_locale())


def _figures(q: ReportQuery, clicks: int, unique_clicks: int, conversions: int, click_conversions: int, sales, revenue,
             payout) -> dict:
    unique = unique_clicks
    revenue = quantize(Decimal(revenue or 0), q.currency)
    payout = quantize(Decimal(payout or 0), q.currency)
    # EPC as the affiliate industry uses it: what a click earns. For an affiliate (and operators) that is the
    # affiliate payout per click; for an advertiser the revenue (its cost) per click. All clicks, bots included.
    earned = revenue if q.role == Role.ADVERTISER else payout
    row = {
        "clicks": clicks, "unique_clicks": unique, "conversions": conversions,
        "sales": str(quantize(Decimal(sales or 0), q.currency) + 0),  # + 0: a refunded day's -0.00 reads 0.00
        "revenue": str(revenue), "payout": str(payout), "profit": str(quantize(revenue - payout, q.currency)),
        "conversion_rate": conversion_rate(click_conversions, unique),
        "epc": str(quantize(earned / clicks, q.currency)) if clicks else None,
    }
    return {name: row[name] for name in columns_for(q.role)}


def _labels(q: ReportQuery, keys) -> dict:
    if q.group_by == "program":
        return dict(Program.objects.for_network(q.network).filter(pk__in=keys).values_list("pk", "name"))
    if q.group_by == "affiliate":
        return dict(Affiliate.objects.for_network(q.network).filter(pk__in=keys).values_list("pk", "name"))
    return {}


def report(q: ReportQuery) -> dict:
    """{group_by, currency, timezone, date_from, date_to, columns, rows: [{key, label, ...}], totals, truncated}.
    Read from the replica when one is configured (a report may be seconds behind)."""
    with replica_reads():
        return _report(q)


def _report(q: ReportQuery) -> dict:
    clicks = _days(ClickDay, q, "clicks", "unique_clicks")
    conversions = _days(ConversionDay, q, "conversions", "click_conversions", "sales")
    money = _days(CommissionDay, q, "revenue", "payout")
    totals = {"clicks": 0, "unique_clicks": 0, "conversions": 0, "click_conversions": 0, "sales": Decimal(0),
              "revenue": Decimal(0), "payout": Decimal(0)}
    raw = {}
    for key in {*clicks, *conversions, *money}:
        c, v, m = clicks.get(key, {}), conversions.get(key, {}), money.get(key, {})
        values = {"clicks": c.get("clicks") or 0, "unique_clicks": c.get("unique_clicks") or 0,
                  "conversions": v.get("conversions") or 0, "click_conversions": v.get("click_conversions") or 0,
                  "sales": v.get("sales") or Decimal(0),
                  "revenue": m.get("revenue") or Decimal(0),
                  "payout": m.get("payout") or Decimal(0)}
        for name, value in values.items():
            totals[name] += value
        raw[key] = values
    truncated = False
    if q.group_by in TIME_GROUPS:
        keys = _time_keys(q)
    else:
        keys = sorted(raw, key=lambda k: (-raw[k]["clicks"], -raw[k]["conversions"], str(k)))
        truncated = len(keys) > MAX_ROWS
        keys = keys[:MAX_ROWS]
    labels = _labels(q, keys)
    empty = {"clicks": 0, "unique_clicks": 0, "conversions": 0, "click_conversions": 0, "sales": 0, "revenue": 0,
             "payout": 0}
    rows = []
    for key in keys:
        if q.group_by in TIME_GROUPS:
            name, label = _time_label(q.group_by, key)
        else:
            name, label = key, labels.get(key, key)
        rows.append({"key": name, "label": str(label), **_figures(q, **raw.get(key, empty))})
    return {
        "group_by": q.group_by, "currency": q.currency, "timezone": q.network.timezone,
        "date_from": q.date_from.isoformat(), "date_to": q.date_to.isoformat(), "columns": columns_for(q.role),
        "rows": rows, "totals": {"key": "total", "label": "Total", **_figures(q, **totals)}, "truncated": truncated,
    }


def currencies_for(*, network: Network, membership: Membership) -> list[str]:
    """Currencies of the programs this membership can report on (the network's default first)."""
    # An affiliate reports on the programs it partners in (`visible_to`), not on the whole marketplace.
    found = set(Program.objects.for_network(network).visible_to(membership).values_list("currency", flat=True))
    return [network.default_currency, *sorted(found - {network.default_currency})]

