"""The partner portal's money pages: the overview (KPIs from the click rollups and the ledger, a chart of
clicks and earnings per day) and the commissions list with balances per currency."""

from django.http import JsonResponse

from network.views import PartnerDashboardView, PartnerPage
from network.web import paginate
from programs import caps as program_caps
from programs import selectors as program_selectors
from programs.models import Partnership
from reports.figures import daily_series, kpis, overview_query
from reports.onboarding import affiliate_checklist
from reports.selectors import conversion_rate, rate_percent

from . import ledger
from .models import Commission
from .selectors import CommissionFilter

DAYS = 30


class PartnerOverviewView(PartnerDashboardView):
    """The partner overview (network's page) with KPI cards and the performance chart on top."""

    template_name = "partner/commissions_overview.html"

    def get_context_data(self, **kwargs):
        figures = kpis(overview_query(network=self.network, membership=self.membership, days=DAYS),
                       ["clicks", "unique_clicks", "conversions"])
        programs = program_selectors.partnerships_visible_to(network=self.network, membership=self.membership) \
            .filter(status=Partnership.Status.APPROVED).count()
        rate = conversion_rate(figures["conversions"], figures["unique_clicks"])
        return super().get_context_data(
            clicks=figures["clicks"], unique_clicks=figures["unique_clicks"], conversions=figures["conversions"],
            conversion_percent=rate_percent(rate, 1) if rate is not None else None,
            balances=ledger.affiliate_balances(network=self.network, affiliate=self.party), programs=programs,
            days=DAYS, checklist=affiliate_checklist(network=self.network, affiliate=self.party),
            caps_rows=program_caps.partner_caps_overview(partnerships=program_selectors.partnerships_visible_to(
                network=self.network, membership=self.membership)), **kwargs)


class PerformanceChartView(PartnerPage):
    """JSON: clicks (rollups) and earnings per currency (commissions) per day, last 30 days, network time zone."""

    def get(self, request, *args, **kwargs):
        # What the affiliate earned: its commissions but rejected ones, net of reversals.
        figures = daily_series(overview_query(network=self.network, membership=self.membership, days=DAYS),
                               ["clicks", "payout"], per_currency=True)
        return JsonResponse({
            "timezone": self.network.timezone,
            "labels": [day.isoformat() for day in figures["days"]],
            "clicks": figures["clicks"],
            "earnings": [{"currency": currency, "data": [str(value) for value in data]}
                         for currency, data in figures["payout"].items()],
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
