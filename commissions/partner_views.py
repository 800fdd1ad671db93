"""The partner portal's money pages: the overview (KPIs from the click rollups and the ledger, a chart of
clicks and earnings per day) and the commissions list with balances per currency."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.http import JsonResponse
from django.utils import timezone

from core.money import quantize
from network.views import PartnerDashboardView, PartnerPage
from network.web import paginate
from programs import selectors as program_selectors
from tracking.models import ClickRollup, Conversion

from . import ledger
from .models import Commission
from .selectors import CommissionFilter

DAYS = 30
ZERO = Decimal(0)
# What the affiliate earned (the chart): everything but rejected commissions, net of reversals.
EARNING_STATUSES = [s for s in Commission.Status.values if s != Commission.Status.REJECTED]


def _window(network):
    tz = ZoneInfo(network.timezone)
    today = timezone.now().astimezone(tz).date()
    first = today - timedelta(days=DAYS - 1)
    start = datetime.combine(first, time.min, tzinfo=tz)
    return tz, first, start


class PartnerOverviewView(PartnerDashboardView):
    """The partner overview (network's page) with KPI cards and the performance chart on top."""

    template_name = "partner/commissions_overview.html"

    def get_context_data(self, **kwargs):
        affiliate = self.party
        _, _, start = _window(self.network)
        clicks = self.scoped(ClickRollup).filter(affiliate=affiliate, hour__gte=start).aggregate(
            clicks=Sum("clicks"), unique=Sum("unique_clicks"))
        conversions = self.scoped(Conversion).visible_to(self.membership).filter(
            created_at__gte=start).exclude(status=Conversion.Status.REJECTED).count()
        return super().get_context_data(
            clicks=clicks["clicks"] or 0, unique_clicks=clicks["unique"] or 0, conversions=conversions,
            balances=ledger.affiliate_balances(network=self.network, affiliate=affiliate), days=DAYS, **kwargs)


class PerformanceChartView(PartnerPage):
    """JSON: clicks (rollups) and earnings per currency (commissions) per day, last 30 days, network time zone."""

    def get(self, request, *args, **kwargs):
        tz, first, start = _window(self.network)
        labels = [first + timedelta(days=n) for n in range(DAYS)]
        clicks = {
            row["day"]: row["clicks"]
            for row in self.scoped(ClickRollup).filter(affiliate=self.party, hour__gte=start)
            .annotate(day=TruncDate("hour", tzinfo=tz)).values("day").annotate(clicks=Sum("clicks"))
        }
        earnings: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
        # Added in Python: SQLite would sum decimals as floats.
        for created_at, currency, amount, reversed_amount in self.scoped(Commission).visible_to(
                self.membership).filter(created_at__gte=start, status__in=EARNING_STATUSES).values_list(
                "created_at", "currency", "amount", "reversed_amount"):
            earnings[currency][created_at.astimezone(tz).date()] += amount - reversed_amount
        return JsonResponse({
            "timezone": self.network.timezone,
            "labels": [day.isoformat() for day in labels],
            "clicks": [clicks.get(day, 0) for day in labels],
            "earnings": [
                {"currency": currency, "data": [str(quantize(per_day.get(day, ZERO), currency)) for day in labels]}
                for currency, per_day in sorted(earnings.items())
            ],
        })


class CommissionFilterForm(CommissionFilter):
    """The API's filter (status, program, dates in the network's time zone) driven by a web page."""

    def __init__(self, *args, network, **kwargs):
        self.network = network
        super().__init__(*args, **kwargs)

    def _tz(self) -> str:
        return self.network.timezone


class CommissionsView(PartnerPage):
    template_name = "partner/commissions_list.html"

    def get_context_data(self, **kwargs):
        queryset = self.scoped(Commission).visible_to(self.membership).select_related(
            "program", "conversion")
        data = self.request.GET.copy()
        data.pop("affiliate", None)  # an affiliate sees its own commissions only
        filters = CommissionFilterForm(data, queryset=queryset, network=self.network)
        programs = program_selectors.programs_visible_to(network=self.network, membership=self.membership).filter(
            partnerships__affiliate=self.party).distinct().order_by("name")
        valid = filters.is_valid()
        page = paginate(self.request, filters.qs if valid else queryset.none())
        return super().get_context_data(
            filters=filters, valid=valid, page=page, statuses=Commission.Status.choices, programs=programs,
            balances=ledger.affiliate_balances(network=self.network, affiliate=self.party),
            filtered=any(data.get(k) for k in ("status", "program", "date_from", "date_to")), **kwargs)
