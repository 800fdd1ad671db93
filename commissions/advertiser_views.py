"""The advertiser's overview (KPIs and the daily chart), partners with their figures, and commissions
(filters, approve/reject one or many; held ones are shown with their fraud signals and left to operators).

These pages read rollups, conversions and commissions, so they live here (commissions -> tracking ->
programs); decisions go through `commissions.services` and `programs.services`."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from core.money import quantize
from network.models import Affiliate, Role
from network.views import AdvertiserDashboardView
from network.web import NetworkPageMixin, is_htmx, paginate
from programs import selectors as program_selectors
from programs.advertiser_forms import as_id
from programs.models import Partnership
from tracking.models import ClickRollup, Conversion

from . import services
from .models import Commission

DAYS = 30
ADVERTISER = frozenset({Role.ADVERTISER})
Status = Commission.Status
DECIDABLE = (Status.PENDING,)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


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

    def rollups(self):
        return self.scoped(ClickRollup).filter(program__in=self.programs())

    def main_currency(self) -> str:
        """The currency the chart shows revenue in: that of most of the advertiser's programs."""
        row = self.programs().values("currency").annotate(n=Count("id")).order_by("-n", "currency").first()
        return row["currency"] if row else self.network.default_currency


# --- overview --------------------------------------------------------------------------------------------
class OverviewView(AdvertiserMixin, AdvertiserDashboardView):
    """The advertiser overview of the network app, with KPI cards, the daily chart and recent conversions."""

    template_name = "advertiser/commissions_overview.html"

    def get_context_data(self, **kwargs):
        since = timezone.now() - timedelta(days=DAYS)
        clicks = self.rollups().filter(hour__gte=since).aggregate(n=Sum("clicks"))["n"] or 0
        recent = self.conversions().filter(created_at__gte=since)
        counted = recent.exclude(status=Conversion.Status.REJECTED)
        revenue = by_currency(counted.values("currency").annotate(total=Sum(F("amount") - F("refunded_amount"))))
        owed = (self.commissions().values("currency", "status").filter(status__in=[Status.PENDING, Status.ON_HOLD,
                                                                                   Status.APPROVED])
                .annotate(total=Sum(F("amount") - F("reversed_amount"))))
        pending = self._merge(by_currency([r for r in owed if r["status"] != Status.APPROVED]))
        approved = by_currency([r for r in owed if r["status"] == Status.APPROVED])
        return super().get_context_data(
            clicks=clicks, conversion_count=counted.count(), revenue=revenue, pending=pending, approved=approved,
            held=self.commissions().filter(status=Status.ON_HOLD).count(),
            applications=program_selectors.partnerships_visible_to(network=self.network, membership=self.membership)
            .filter(status=Partnership.Status.PENDING, invited_at__isnull=True).count(),
            recent_conversions=self.conversions().select_related("program", "affiliate")[:8],
            chart_currency=self.main_currency(), days=DAYS, has_programs=self.programs().exists(), **kwargs)

    @staticmethod
    def _merge(totals):
        merged = defaultdict(Decimal)
        for currency, amount in totals:
            merged[currency] += amount
        return sorted(merged.items(), key=lambda item: -item[1])


class DailyChartView(AdvertiserMixin, View):
    """JSON for the overview charts: conversions or revenue (main currency) per day, network time zone."""

    def get(self, request):
        series = request.GET.get("series", "conversions")
        tz = self.tz()
        today = timezone.now().astimezone(tz).date()
        first = today - timedelta(days=DAYS - 1)
        rows = (self.conversions().exclude(status=Conversion.Status.REJECTED)
                .filter(created_at__gte=day_start(first, tz)).annotate(day=TruncDate("created_at", tzinfo=tz)))
        currency = self.main_currency()
        if series == "revenue":
            rows = rows.filter(currency=currency).values("day").annotate(value=Sum(F("amount") - F("refunded_amount")))
            label = f"Revenue ({currency})"
        else:
            rows = rows.values("day").annotate(value=Count("id"))
            label = "Conversions"
        values = {row["day"]: row["value"] for row in rows}
        labels = [first + timedelta(days=n) for n in range(DAYS)]
        data = [values.get(day, 0) for day in labels]
        if series == "revenue":
            data = [str(quantize(value, currency)) if value else "0" for value in data]
        return JsonResponse({"label": label, "series": series, "currency": currency if series == "revenue" else None,
                             "timezone": self.network.timezone, "labels": [d.isoformat() for d in labels],
                             "data": data})


# --- partners ---------------------------------------------------------------------------------------------
class PartnersView(AdvertiserMixin, TemplateView):
    """Applications waiting for a decision, and the partners of each program with their figures."""

    template_name = "advertiser/commissions_partners.html"

    def get_context_data(self, **kwargs):
        partnerships = (program_selectors.partnerships_visible_to(network=self.network, membership=self.membership)
                        .select_related("program", "affiliate"))
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
                                        program_filter=program_id, status_filter=status,
                                        statuses=[s for s in Partnership.Status.choices if s[0] != "pending"],
                                        **kwargs)

    def _figures(self, partnerships) -> None:
        """Clicks (rollups), conversions and commissions of each partnership on the page."""
        partnerships = list(partnerships)
        pairs = {(p.program_id, p.affiliate_id) for p in partnerships}
        if not pairs:
            return
        program_ids = {program for program, _ in pairs}
        affiliate_ids = {affiliate for _, affiliate in pairs}
        clicks = {(r["program_id"], r["affiliate_id"]): r["n"] for r in self.rollups().filter(
            program_id__in=program_ids, affiliate_id__in=affiliate_ids).values("program_id", "affiliate_id")
            .annotate(n=Sum("clicks"))}
        conversions = {r["partnership_id"]: r["n"] for r in self.conversions().filter(
            partnership__in=partnerships).exclude(status=Conversion.Status.REJECTED).values("partnership_id")
            .annotate(n=Count("id"))}
        earned = defaultdict(list)
        for r in (self.commissions().filter(program_id__in=program_ids, affiliate_id__in=affiliate_ids)
                  .exclude(status__in=[Status.REJECTED]).values("program_id", "affiliate_id", "currency")
                  .annotate(total=Sum(F("amount") - F("reversed_amount")))):
            earned[r["program_id"], r["affiliate_id"]].append((r["currency"], quantize(r["total"], r["currency"])))
        for p in partnerships:
            key = (p.program_id, p.affiliate_id)
            p.clicks, p.conversions, p.earned = clicks.get(key, 0), conversions.get(p.pk, 0), earned.get(key, [])


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
                queryset = queryset.filter(created_at__gte=day_start(day, tz))
            elif day:
                queryset = queryset.filter(created_at__lt=day_start(day + timedelta(days=1), tz))
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
            messages.success(request, f"Commission #{pk} is {commission.status}.")
        return redirect("advertiser_commissions")


class CommissionBulkView(AdvertiserMixin, View):
    """Approve or reject the ticked commissions; each one is decided on its own (held ones are refused)."""

    def post(self, request):
        verb = request.POST.get("action")
        ids = [as_id(value) for value in request.POST.getlist("ids") if as_id(value) is not None][:500]
        if verb not in ("approve", "reject") or not ids:
            messages.error(request, "Tick at least one commission and choose approve or reject.")
            return redirect("advertiser_commissions")
        done, refused = 0, []
        for commission_id in self.commissions().filter(pk__in=ids).values_list("pk", flat=True):
            error = decide(self, request, commission_id, verb)
            if error:
                refused.append(error)
            else:
                done += 1
        past = "approved" if verb == "approve" else "rejected"
        messages.success(request, f"{done} commission{'s' if done != 1 else ''} {past}.")
        for error in refused[:10]:
            messages.error(request, error)
        return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/advertiser/")
                        else "advertiser_commissions")
