"""Per-link figures for the partner's link builder: clicks, unique clicks, conversions, earnings and EPC of each
link over the last days, with a sparkline of its clicks per network-local day; and the same figures per sub ID
(the report grouped by a sub ID). A fixed number of queries whatever the number of links."""

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from commissions.models import Commission
from core.days import local_day_bounds
from core.money import quantize
from network.models import Membership, Network
from tracking.models import Conversion, LinkRollup

from .selectors import ReportQuery, report

DAYS = 30
SPARK_WIDTH, SPARK_HEIGHT = 120, 24


@dataclass
class LinkFigures:
    currency: str
    clicks: int = 0
    unique_clicks: int = 0
    conversions: int = 0
    earnings: Decimal = Decimal(0)
    per_day: list[int] = field(default_factory=list)

    @property
    def epc(self) -> Decimal | None:
        """What a click earned (all clicks, as the reports count EPC); None without clicks."""
        return quantize(self.earnings / self.clicks, self.currency) if self.clicks else None

    @property
    def sparkline(self) -> str:
        """The SVG polyline's points of the clicks per day (the highest day at the top; all zero: a flat line)."""
        top = max(self.per_day, default=0) or 1
        step = SPARK_WIDTH / max(len(self.per_day) - 1, 1)
        return " ".join(f"{i * step:.1f},{SPARK_HEIGHT - 1 - (n / top) * (SPARK_HEIGHT - 2):.1f}"
                        for i, n in enumerate(self.per_day))

    @property
    def peak(self) -> int:
        return max(self.per_day, default=0)


def _days(network: Network, days: int) -> list[date]:
    today = timezone.localtime(timezone=zoneinfo.ZoneInfo(network.timezone)).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def link_figures(*, network: Network, links: list, days: int = DAYS) -> dict[int, LinkFigures]:
    """{link id: LinkFigures} for `links` (tracking links of one network, their programs loaded) over the last
    `days` network-local days. Three queries: clicks per link and day (the hourly LinkRollup: each hour on the local
    day it starts in, as the day tables count), conversions per link, earnings per link (the link's affiliate's own
    commissions on its conversions, not rejected, net of reversals)."""
    tz = zoneinfo.ZoneInfo(network.timezone)
    day_list = _days(network, days)
    since, _ = local_day_bounds(day_list[0], day_list[-1], tz=tz)
    figures = {link.pk: LinkFigures(currency=link.program.currency, per_day=[0] * len(day_list)) for link in links}
    if not figures:
        return figures
    index = {day: n for n, day in enumerate(day_list)}
    ids = list(figures)
    # The hourly link rollups (the ingester's), never the raw clicks: the click table has no index on the link.
    clicks = (LinkRollup.objects.for_network(network).filter(link_id__in=ids, hour__gte=since)
              .annotate(day=TruncDate("hour", tzinfo=tz)).values("link_id", "day")
              .annotate(n=Sum("clicks"), unique=Sum("unique_clicks")).order_by())
    for row in clicks:
        into = figures[row["link_id"]]
        into.clicks += row["n"]
        into.unique_clicks += row["unique"]
        if row["day"] in index:
            into.per_day[index[row["day"]]] += row["n"]
    conversions = (Conversion.objects.for_network(network).filter(link_id__in=ids, created_at__gte=since)
                   .exclude(status=Conversion.Status.REJECTED).values("link_id").annotate(n=Count("pk")).order_by())
    for row in conversions:
        figures[row["link_id"]].conversions = row["n"]
    affiliates = {link.affiliate_id for link in links}
    earned = (Commission.objects.for_network(network)
              .filter(affiliate_id__in=affiliates, conversion__link_id__in=ids, conversion__created_at__gte=since)
              .exclude(status=Commission.Status.REJECTED)
              .values("conversion__link_id", "currency").annotate(net=Sum(F("amount") - F("reversed_amount")))
              .order_by())
    for row in earned:
        into = figures[row["conversion__link_id"]]
        if row["currency"] == into.currency:  # a program pays in its currency
            into.earnings += row["net"] or 0
    for into in figures.values():
        into.earnings = quantize(into.earnings, into.currency)
    return figures


def sub_id_figures(*, network: Network, membership: Membership, sub: str, currencies: list[str],
                   days: int = DAYS) -> list[dict]:
    """The report grouped by `sub` (sub1..sub5) over the last `days`, one per currency: [{currency, rows}]."""
    day_list = _days(network, days)
    tables = []
    for currency in currencies:
        result = report(ReportQuery(network=network, membership=membership, group_by=sub, date_from=day_list[0],
                                    date_to=day_list[-1], currency=currency))
        rows = [row for row in result["rows"] if row["clicks"] or row["conversions"] or Decimal(row["payout"])]
        if rows:
            tables.append({"currency": currency, "rows": rows, "totals": result["totals"]})
    return tables
