"""The advertiser's overview (KPIs and the daily chart), partners with their figures, and commissions
(filters, approve/reject one or many; held ones are shown with their fraud signals and left to operators).

These pages read conversions and commissions, so they live here (commissions -> tracking -> programs); the
overview's and the partners' figures come from `reports.figures` (a page may read reports); decisions go
through `commissions.services` and `programs.services`."""

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Count, F, Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from core.days import local_day_bounds
from core.money import quantize
from network.i18n import choice_word
from network.models import Affiliate, PartnerGroup, Role
from network.views import AdvertiserDashboardView
from network.web import NetworkPageMixin, is_htmx, paginate
from programs import caps as program_caps
from programs import selectors as program_selectors
from programs.advertiser_forms import as_id
from programs.models import Partnership
from reports.figures import daily_series, kpis, overview_query, owed, partnership_figures
from reports.onboarding import advertiser_checklist
from tracking.models import Conversion

from . import services
from .models import Commission

DAYS = 30
ADVERTISER = frozenset({Role.ADVERTISER})
Status = Commission.Status
DECIDABLE = (Status.PENDING,)


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def by_currency(rows, field: str = "total") -> list[tuple[str, Decimal]]:
    """[(currency, amount quantized)] for rows of {currency, total}, largest first."""
    totals = [(row["currency"], quantize(row[field] or Decimal(0), row["currency"])) for row in rows]
    return sorted(totals, key=lambda item: -item[1])


class AdvertiserMixin(NetworkPageMixin):
    roles = ADVERTISER

    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.network.timezone)

    def programs(self):
        return program_selectors.programs_visible_to(network=self.network, membership=self.membership)

    def conversions(self):
        return self.scoped(Conversion).filter(advertiser=self.party)

    def commissions(self):
        return self.scoped(Commission).visible_to(self.membership)

    def main_currency(self) -> str:
        """The currency the chart shows revenue in: that of most of the advertiser's programs."""
        row = self.programs().values("currency").annotate(n=Count("id")).order_by("-n", "currency").first()
        return row["currency"] if row else self.network.default_currency


# --- overview --------------------------------------------------------------------------------------------
class OverviewView(AdvertiserMixin, AdvertiserDashboardView):
    """The advertiser overview of the network app, with KPI cards, the daily chart and recent conversions."""

    template_name = "advertiser/commissions_overview.html"

    def get_context_data(self, **kwargs):
        q = overview_query(network=self.network, membership=self.membership, days=DAYS)
        figures = kpis(q, ["clicks", "conversions", "sales"], per_currency=True)
        return super().get_context_data(
            clicks=figures["clicks"], conversion_count=figures["conversions"], revenue=list(figures["sales"].items()),
            pending=list(owed(q, [Status.PENDING, Status.ON_HOLD]).items()),
            approved=list(owed(q, [Status.APPROVED]).items()),
            held=self.commissions().filter(status=Status.ON_HOLD).count(),
            applications=program_selectors.partnerships_visible_to(network=self.network, membership=self.membership)
            .filter(status=Partnership.Status.PENDING, invited_at__isnull=True).count(),
            recent_conversions=self.conversions().select_related("program", "affiliate")[:8],
            chart_currency=self.main_currency(), days=DAYS, has_programs=self.programs().exists(),
            checklist=advertiser_checklist(network=self.network, advertiser=self.party),
            caps_rows=program_caps.caps_overview(programs=self.programs()), **kwargs)


class DailyChartView(AdvertiserMixin, View):
    """JSON for the overview charts: conversions or revenue (sales in the main currency) per day, network time
    zone."""

    def get(self, request):
        series = request.GET.get("series", "conversions")
        currency = self.main_currency()
        metric = "sales" if series == "revenue" else "conversions"
        figures = daily_series(overview_query(network=self.network, membership=self.membership, days=DAYS,
                                              currency=currency), [metric])
        data = figures[metric]
        if series == "revenue":
            label = f"Sales ({currency})"
            data = [str(value) if value else "0" for value in data]
        else:
            label = "Conversions"
        return JsonResponse({"label": label, "series": series, "currency": currency if series == "revenue" else None,
                             "timezone": self.network.timezone, "labels": [d.isoformat() for d in figures["days"]],
                             "data": data})


# --- partners ---------------------------------------------------------------------------------------------
class PartnersView(AdvertiserMixin, TemplateView):
    """Applications waiting for a decision, and the partners of each program with their figures."""

    template_name = "advertiser/commissions_partners.html"

    def get_context_data(self, **kwargs):
        partnerships = (program_selectors.partnerships_visible_to(network=self.network, membership=self.membership)
                        .select_related("program", "affiliate__group"))
        programs = list(self.programs().order_by("name"))
        program_id = self.request.GET.get("program", "")
        if as_id(program_id) is not None:
            partnerships = partnerships.filter(program_id=as_id(program_id))
        status = self.request.GET.get("status", "")
        applications = partnerships.filter(status=Partnership.Status.PENDING).order_by("applied_at")
        partners = partnerships.exclude(status=Partnership.Status.PENDING).order_by("program__name", "affiliate__name")
        if status in Partnership.Status.values:
            partners = partners.filter(status=status)
        page = paginate(self.request, partners)
        self._figures(page.object_list)
        return super().get_context_data(applications=applications, page=page, programs=programs,
                                        groups=list(self.scoped(PartnerGroup)),
                                        program_filter=program_id, status_filter=status,
                                        statuses=[s for s in Partnership.Status.choices if s[0] != "pending"],
                                        **kwargs)

    def _figures(self, partnerships) -> None:
        """Clicks, conversions and commissions of each partnership on the page (see `reports.figures`)."""
        figures = partnership_figures(network=self.network, membership=self.membership, partnerships=partnerships)
        for p in partnerships:
            p.clicks, p.conversions, p.earned = (figures[p.pk][name] for name in ("clicks", "conversions", "earned"))


# --- commissions ------------------------------------------------------------------------------------------
class CommissionListView(AdvertiserMixin, TemplateView):
    template_name = "advertiser/commissions_list.html"

    def filtered(self):
        params = self.request.GET
        queryset = self.commissions().select_related("program", "affiliate", "conversion")
        errors = {}
        if params.get("status") in Status.values:
            queryset = queryset.filter(status=params["status"])
        for name in ("program", "affiliate"):
            if as_id(params.get(name)) is not None:
                queryset = queryset.filter(**{f"{name}_id": as_id(params[name])})
        tz = self.tz()
        for name in ("date_from", "date_to"):
            value = params.get(name)
            day = parse_day(value)
            if value and day is None:
                errors[name] = "Use a date like 2026-05-31."
            elif day and name == "date_from":
                queryset = queryset.filter(created_at__gte=local_day_bounds(day, tz=tz)[0])
            elif day:
                queryset = queryset.filter(created_at__lt=local_day_bounds(day, tz=tz)[1])
        return queryset, errors

    def get_context_data(self, **kwargs):
        queryset, errors = self.filtered()
        page = paginate(self.request, queryset)
        totals = by_currency(queryset.values("currency").annotate(total=Sum(F("amount") - F("reversed_amount"))))
        affiliate_ids = self.commissions().values("affiliate_id").distinct()
        return super().get_context_data(
            page=page, filter_errors=errors, totals=totals, statuses=Status.choices,
            programs=self.programs().order_by("name"),
            affiliates=self.scoped(Affiliate).filter(pk__in=affiliate_ids).order_by("name"),
            held_count=self.commissions().filter(status=Status.ON_HOLD).count(), **kwargs)


def decide(view, request, commission_id: int, verb: str) -> str | None:
    """Approve or reject one commission through the services; returns the refusal message, if any."""
    try:
        if verb == "approve":
            services.commission_approve(network=view.network, commission=commission_id, actor=request.user)
        else:
            services.commission_reject(network=view.network, commission=commission_id, actor=request.user,
                                       reason=request.POST.get("reason", "")[:255])
    except services.TransitionForbidden as exc:
        return str(exc)
    except services.TransitionError as exc:
        return str(exc)
    return None


class CommissionDecideView(AdvertiserMixin, View):
    """Approve or reject one commission (htmx answers the row)."""

    def post(self, request, pk, verb):
        commission = get_object_or_404(self.commissions(), pk=pk)
        error = decide(self, request, commission.pk, verb)
        commission = self.commissions().select_related("program", "affiliate", "conversion").get(pk=pk)
        if is_htmx(request):
            return render(request, "advertiser/_commissions_row.html", {"commission": commission, "error": error},
                          status=400 if error else 200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Commission #%(pk)s is %(status)s.") % {
                "pk": pk, "status": choice_word(Commission.Status, commission.status)})
        return redirect("advertiser_commissions")


class CommissionBulkView(AdvertiserMixin, View):
    """Approve or reject the ticked commissions; each one is decided on its own (held ones are refused)."""

    def post(self, request):
        verb = request.POST.get("action")
        ids = [as_id(value) for value in request.POST.getlist("ids") if as_id(value) is not None][:500]
        if verb not in ("approve", "reject") or not ids:
            messages.error(request, _("Tick at least one commission and choose approve or reject."))
            return redirect("advertiser_commissions")
        done, refused = 0, []
        for commission_id in self.commissions().filter(pk__in=ids).values_list("pk", flat=True):
            error = decide(self, request, commission_id, verb)
            if error:
                refused.append(error)
            else:
                done += 1
        if verb == "approve":
            text = ngettext("%(count)s commission approved.", "%(count)s commissions approved.", done)
        else:
            text = ngettext("%(count)s commission rejected.", "%(count)s commissions rejected.", done)
        messages.success(request, text % {"count": done})
        for error in refused[:10]:
            messages.error(request, error)
        return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/advertiser/")
                        else "advertiser_commissions")
