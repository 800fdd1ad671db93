"""Dashboard figures: the KPI cards and per-day series of every party's overview, over the report query (its
network-local days, its party scope). Pages call `kpis()` and `daily_series()` and only render; `_measure` is
the one place these figures touch the tables: the report's day tables (tracking.daily, commissions.daily).

What an overview counts differs from the report table on purpose: conversions include unattributed ones
(an advertiser sees its unattributed sales) and clicks are not narrowed to a currency. Money lands, as in the
report, on the local day of its conversion (a CPC commission's: its clicks' day)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from commissions.models import Commission, CommissionDay
from core.days import local_today
from core.money import quantize
from network import daily
from network.models import Affiliate, Membership, Network
from tracking.models import ClickDay, ConversionDay

from .selectors import ReportQuery, _scope, _time_keys

DAYS = 30
# Which table each figure comes from; figures of one source are read with one query.
SOURCES = {
    "clicks": "rollups", "unique_clicks": "rollups",
    "conversions": "conversions", "sales": "conversions",  # sales: order amounts net of refunds
    "revenue": "commissions", "payout": "commissions", "profit": "commissions",  # commissions, net of reversals
    "new_affiliates": "affiliates",  # affiliates who joined
}
METRICS = tuple(SOURCES)
AMOUNTS = frozenset({"sales", "revenue", "payout", "profit"})


def overview_query(*, network: Network, membership: Membership, days: int = DAYS, currency: str | None = None,
                   today: date | None = None) -> ReportQuery:
    """The report query of an overview: the membership's figures by day over the last `days` local days of its
    network, today included; amounts in `currency` (the network's default when None)."""
    today = today or local_today(network.timezone)
    return ReportQuery(network=network, membership=membership, group_by="day",
                       date_from=today - timedelta(days=days - 1), date_to=today,
                       currency=currency or network.default_currency)


def daily_series(q: ReportQuery, metrics: Iterable[str], *, per_currency: bool = False) -> dict:
    """{"days": [date], metric: [value per day]} over the query's local days (the empty ones too). Counts are
    ints; amounts `Decimal`s quantized to `q.currency`, or with `per_currency` {currency: [amount per day]} for
    every currency that has rows in the range (sorted by code)."""
    metrics = _checked(metrics)
    days = _time_keys(q)
    values = _per_day(q, metrics, per_currency)
    series: dict = {}
    for metric in values:
        if metric in AMOUNTS and per_currency:
            series[metric] = {currency: [_amount(per_day.get(day), currency) for day in days]
                              for currency, per_day in sorted(values[metric].items())}
        elif metric in AMOUNTS:
            series[metric] = [_amount(values[metric][q.currency].get(day), q.currency) for day in days]
        else:
            series[metric] = [values[metric][None].get(day) or 0 for day in days]
    if "profit" in metrics:
        # Revenue minus payout, each quantized first, so the margin adds up on the page.
        if per_currency:
            # Revenue and payout come from the same rows: the same currencies.
            series["profit"] = {currency: _minus(revenue, series["payout"][currency])
                                for currency, revenue in series["revenue"].items()}
        else:
            series["profit"] = _minus(series["revenue"], series["payout"])
    return {"days": days, **{metric: series[metric] for metric in metrics}}


def kpis(q: ReportQuery, metrics: Iterable[str], *, per_currency: bool = False) -> dict:
    """{metric: total over the query's local days}: the sum of `daily_series` (a card is the sum of its chart's
    bars). With `per_currency`, amounts are {currency: total}, largest first."""
    metrics = _checked(metrics)
    series = daily_series(q, metrics, per_currency=per_currency)
    totals = {}
    for metric in metrics:
        if metric in AMOUNTS and per_currency:
            found = [(currency, sum(values, _amount(None, currency))) for currency, values in series[metric].items()]
            totals[metric] = dict(sorted(found, key=lambda item: (-item[1], item[0])))
        elif metric in AMOUNTS:
            totals[metric] = sum(series[metric], _amount(None, q.currency))
        else:
            totals[metric] = sum(series[metric])
    return totals


def owed(q: ReportQuery, statuses: Iterable[str]) -> dict[str, Decimal]:
    """{currency: amount} of the membership's commissions in `statuses` now (all time, not the query's days), net
    of reversals, largest first; each status's total is quantized, then added."""
    rows = (_scope(Commission.objects.for_network(q.network), q)
            .filter(status__in=list(statuses)).order_by().values("currency", "status")
            .annotate(total=Sum(F("amount") - F("reversed_amount"))))
    merged: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        merged[row["currency"]] += quantize(row["total"] or Decimal(0), row["currency"])
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))


def partnership_figures(*, network: Network, membership: Membership, partnerships: Iterable) -> dict[int, dict]:
    """{partnership id: {"clicks", "conversions", "earned": [(currency, amount)]}} of all time, for a page of
    partnerships: clicks, conversions not rejected, commissions not rejected net of reversals (the day tables);
    each in the membership's scope."""
    partnerships = list(partnerships)
    if not partnerships:
        return {}
    q = overview_query(network=network, membership=membership)
    program_ids = {p.program_id for p in partnerships}
    affiliate_ids = {p.affiliate_id for p in partnerships}
    def per_pair(model, column: str, priced: bool = False) -> dict:
        """{(program, affiliate[, currency]): sum of `column`} over the table and its changes not folded yet."""
        sums: dict = defaultdict(int)
        keys = ("program_id", "affiliate_id", *(["currency"] if priced else []))
        for table in daily.with_changes(model, by_partnership=True):
            for r in _scope(table.objects.for_network(network), q).filter(
                    program_id__in=program_ids, affiliate_id__in=affiliate_ids).order_by().values(*keys).annotate(
                    n=Sum(column)):
                sums[tuple(r[k] for k in keys)] += r["n"] or 0
        return sums

    clicks, conversions = per_pair(ClickDay, "clicks"), per_pair(ConversionDay, "conversions")
    earned = defaultdict(list)
    for (program_id, affiliate_id, currency), total in sorted(per_pair(CommissionDay, "payout", priced=True).items()):
        earned[program_id, affiliate_id].append((currency, quantize(total, currency)))
    pair = {p.pk: (p.program_id, p.affiliate_id) for p in partnerships}
    return {pk: {"clicks": clicks.get(key, 0), "conversions": conversions.get(key, 0), "earned": earned.get(key, [])}
            for pk, key in pair.items()}


# --- the measures: the one place the figures read the tables ----------------------------------------------------
def _checked(metrics: Iterable[str]) -> list[str]:
    metrics = list(metrics)
    unknown = [m for m in metrics if m not in SOURCES]
    if unknown:
        raise ValueError(f"Unknown figure {', '.join(unknown)}; one of {', '.join(METRICS)}.")
    return metrics


def _amount(value, currency: str) -> Decimal:
    return quantize(value or Decimal(0), currency)


def _minus(revenue: list[Decimal], payout: list[Decimal]) -> list[Decimal]:
    return [r - p for r, p in zip(revenue, payout, strict=True)]


def _per_day(q: ReportQuery, metrics: list[str], per_currency: bool) -> dict:
    """{metric: {currency (None for counts): {local day: raw value}}} over the query's days, one query per source
    and kind. Profit is derived from revenue and payout, which are read with it."""
    wanted = set(metrics) | ({"revenue", "payout"} if "profit" in metrics else set())
    wanted.discard("profit")
    found: dict = {metric: defaultdict(dict) for metric in wanted}
    for source in sorted({SOURCES[metric] for metric in wanted}):
        for row in _measure(q, source, wanted, per_currency):
            for metric in wanted & row.keys():
                key = row.get("currency", q.currency) if metric in AMOUNTS else None
                per_day = found[metric][key]  # a day's row and its changes not folded yet: added
                per_day[row["day"]] = per_day.get(row["day"], 0) + (row[metric] or 0)
    return found


def _measure(q: ReportQuery, source: str, wanted: set[str], per_currency: bool) -> list[dict]:
    """Rows of {day, [currency,] figures...} of one source in the membership's scope, from the day tables (the
    affiliates who joined from their own table). Amounts are read in `q.currency` only unless `per_currency`."""
    if source == "affiliates":
        start, end = q.bounds()
        rows = Affiliate.objects.for_network(q.network).visible_to(q.membership).filter(
            created_at__gte=start, created_at__lt=end).order_by()
        return list(rows.annotate(day=TruncDate("created_at", tzinfo=q.tz)).values("day")
                    .annotate(new_affiliates=Count("id")))
    model = {"rollups": ClickDay, "conversions": ConversionDay, "commissions": CommissionDay}[source]
    found: list[dict] = []
    for table in daily.with_changes(model, by_partnership=True):  # with the differences not folded in yet
        sums = {name: Sum(name) for name in model.day_sums if name in wanted or source == "commissions"}
        rows = _scope(table.objects.for_network(q.network), q).filter(day__gte=q.date_from, day__lte=q.date_to)
        if source == "rollups":
            found += rows.order_by().values("day").annotate(**sums)
            continue
        # Conversions not rejected by a fraud rule (held ones count: they are real until reviewed), unattributed
        # ones too; commissions not rejected, net of reversals, on the day of their conversion (like the report).
        if "conversions" in sums:
            found += rows.order_by().values("day").annotate(conversions=sums.pop("conversions"))
        if sums:
            priced = rows if per_currency else rows.filter(currency=q.currency)
            found += priced.order_by().values("day", *(["currency"] if per_currency else [])).annotate(**sums)
    return found
