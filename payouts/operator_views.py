"""The operator's payout pages: overview KPIs (a widget of the operator overview), payout batches (run, progress,
CSV, results upload), payouts (filters, mark paid/failed) and the payout settings (`policy` is the schema)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views import View
from django.views.generic import TemplateView

from commissions.models import Commission
from core.money import is_currency
from network.models import Affiliate
from network.permissions import OPERATORS
from network.web import NetworkPageMixin, is_htmx, paginate
from reports.figures import daily_series, kpis, overview_query

from . import masspay, services
from .batches import BatchRunning, payout_batch_start
from .forms import MarkFailedForm, PayoutSettingsForm, ResultsUploadForm
from .holds import payout_switch_method
from .models import MethodKind, Payout, PayoutBatch
from .tasks import payout_batch_run_now
from .transitions import PayoutTransitionError, payout_mark_failed, payout_mark_paid

# "Advertiser cost": what the advertisers pay (the network's revenue), the reports' "cost".
KPI_METRICS = {"revenue": _("Advertiser cost"), "payout": _("Payout"), "profit": _("Network margin"),
               "clicks": _("Clicks"), "conversions": _("Conversions")}


# Why a batch skipped a balance (the codes `batches._gather_one` stores and the API returns), in the page's language.
SKIP_REASONS = {
    "below_threshold": _("Below the minimum payout"),
    "negative_balance": _("Negative balance"),
    "affiliate_suspended": _("Affiliate suspended"),
    "no_method": _("No payout method"),
    "method_incomplete": _("Payout method not set up"),
    "fee_exceeds_amount": _("The fee exceeds the amount"),
}

# What the operator did to a payout, in the page's language.
VERBS = {"paid": _("paid"), "failed": _("failed")}

class OperatorPage(NetworkPageMixin, TemplateView):
    roles = OPERATORS


class OperatorAction(NetworkPageMixin, View):
    roles = OPERATORS


# --- overview -------------------------------------------------------------------------------------------------
def overview_widget(view) -> dict:
    """KPIs of the last 30 days and what needs an operator, for the operator overview (network.navigation).
    Pending affiliates are counted by the overview itself."""
    network = view.network
    q = overview_query(network=network, membership=view.membership)
    totals = kpis(q, KPI_METRICS)
    metric = view.request.GET.get("metric", "revenue")
    return {
        "currency": q.currency,
        "money": [(KPI_METRICS[key], totals[key], key) for key in ("revenue", "payout", "profit")],
        "counts": [(KPI_METRICS[key], totals[key], key) for key in ("clicks", "conversions")],
        "metric": metric if metric in KPI_METRICS else "revenue",
        "metric_label": KPI_METRICS.get(metric, KPI_METRICS["revenue"]),
        "metrics": KPI_METRICS.items(),
        "actions": [
            (pgettext_lazy("commissions, on the overview", "Held for review"),
             Commission.objects.for_network(network).filter(status=Commission.Status.ON_HOLD).count(),
             reverse("operator_fraud")),
            (_("Running batches"), PayoutBatch.objects.for_network(network).filter(status__in=PayoutBatch.RUNNING)
             .count(), reverse("operator_batches")),
            (_("Payouts awaiting your mark"), Payout.objects.for_network(network).filter(
                status=Payout.Status.PROCESSING).exclude(method_kind=MethodKind.STRIPE_CONNECT).count(),
             reverse("operator_payouts") + "?status=processing"),
            (_("Payouts on hold"), Payout.objects.for_network(network).filter(status=Payout.Status.ON_HOLD).count(),
             reverse("operator_payouts") + "?status=on_hold"),
        ],
    }


class KpiChartView(OperatorPage):
    """JSON for the overview chart: one metric per local day over the last 30 days (amounts as strings)."""

    def get(self, request, *args, **kwargs):
        metric = request.GET.get("metric", "revenue")
        if metric not in KPI_METRICS:
            return JsonResponse({"metric": [f"One of {', '.join(KPI_METRICS)}."]}, status=400)
        q = overview_query(network=self.network, membership=self.membership)
        series = daily_series(q, [metric])
        money = metric in ("revenue", "payout", "profit")
        return JsonResponse({
            "label": str(KPI_METRICS[metric]) + (f" ({q.currency})" if money else ""),
            "metric": metric,
            "currency": q.currency if money else None,
            "timezone": self.network.timezone,
            "labels": [day.isoformat() for day in series["days"]],
            "data": [str(value) for value in series[metric]] if money else series[metric],
        })


# --- settings -------------------------------------------------------------------------------------------------
class PayoutSettingsView(OperatorPage):
    template_name = "operator/payouts_settings.html"

    def get_context_data(self, form=None, **kwargs):
        form = form or PayoutSettingsForm(initial=PayoutSettingsForm.initial_for(self.network.payout_settings))
        return super().get_context_data(form=form, **kwargs)

    def post(self, request, *args, **kwargs):
        form = PayoutSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.payout_settings_update(network=self.network, changes=form.normalized, actor=request.user)
            except ValidationError as exc:  # the same validation as the form's: only a race could get here
                form.add_error(None, exc)
            else:
                messages.success(request, _("Payout settings saved."))
                return redirect("operator_payout_settings")
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- batches --------------------------------------------------------------------------------------------------
def _batch_context(batch: PayoutBatch) -> dict:
    percent = int(batch.done * 100 / batch.total) if batch.total else (100 if batch.status not in
                                                                        PayoutBatch.RUNNING else 0)
    return {"batch": batch, "percent": percent, "running": batch.status in PayoutBatch.RUNNING}


class BatchListView(OperatorPage):
    template_name = "operator/payouts_batches.html"

    def get_context_data(self, **kwargs):
        batches = (self.scoped(PayoutBatch).select_related("created_by")
                   .annotate(payout_count=Count("payouts"),
                             paid_count=Count("payouts", filter=Q(payouts__status=Payout.Status.PAID)))
                   .order_by("-id"))
        return super().get_context_data(page=paginate(self.request, batches), **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            batch = payout_batch_start(network=self.network, actor=request.user)
        except BatchRunning as exc:
            context = self.get_context_data(conflict=str(exc), running=exc.running)
            return self.render_to_response(context, status=409)
        payout_batch_run_now(batch.pk, batch.network_id)
        messages.success(request, _("Payout batch #%(batch_id)s started.") % {"batch_id": batch.pk})
        return redirect("operator_batch", pk=batch.pk)


class BatchDetailView(OperatorPage):
    template_name = "operator/payouts_batch.html"

    def get(self, request, *args, **kwargs):
        batch = self.scoped_object(PayoutBatch, pk=kwargs["pk"])
        if is_htmx(request) and request.GET.get("fragment") == "progress":
            context = _batch_context(batch)
            response = render(request, "operator/_payouts_progress.html", context)
            if not context["running"]:
                response["HX-Refresh"] = "true"  # the run ended: reload the page with its payouts
            return response
        return super().get(request, *args, batch=batch, **kwargs)

    def get_context_data(self, batch, **kwargs):
        payouts = batch.payouts.select_related("affiliate").order_by("affiliate__name", "currency")
        affiliates = {a.pk: a.name for a in self.scoped(Affiliate).filter(pk__in=[s["affiliate"] for s in
                                                                                   batch.skipped])}
        skipped = [s | {"name": affiliates.get(s["affiliate"], f"#{s['affiliate']}"),
                        "reason": SKIP_REASONS.get(s.get("reason"), s.get("reason"))} for s in batch.skipped]
        waiting = payouts.filter(status=Payout.Status.PROCESSING)
        totals = payouts.values("currency").annotate(amount=Sum("amount"), net=Sum("net")).order_by("currency")
        return super().get_context_data(
            **_batch_context(batch), payouts=payouts, skipped=skipped, totals=totals,
            paypal_currencies=masspay.paypal_currencies(batch),
            has_bank=waiting.filter(method_kind=MethodKind.BANK).exists(),
            on_hold_count=payouts.filter(status=Payout.Status.ON_HOLD).count(),
            upload_form=kwargs.pop("upload_form", None) or ResultsUploadForm(),
            results=kwargs.pop("results", None), **kwargs,
        )


class BatchCsvView(OperatorAction):
    """The PayPal (one currency per file) or bank mass-pay file of a batch's payouts awaiting payment."""

    def get(self, request, pk, method):
        batch = self.scoped_object(PayoutBatch, pk=pk)
        if method == MethodKind.PAYPAL:
            currency = request.GET.get("currency", "").upper() or None
            if currency is not None and not is_currency(currency):
                return HttpResponse("currency must be an ISO 4217 code.", status=400, content_type="text/plain")
            try:
                body = masspay.paypal_csv(batch, currency)
            except ValidationError as exc:
                return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
        else:
            body = masspay.bank_csv(batch)
        suffix = f"-{currency.lower()}" if method == MethodKind.PAYPAL and currency else ""
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.pk}-{method}{suffix}.csv"'
        return response


class BatchResultsView(BatchDetailView):
    """POST the provider's result file: every row applied, or none and the errors shown."""

    def post(self, request, pk):
        batch = self.scoped_object(PayoutBatch, pk=pk)
        form = ResultsUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > 5 * 1024 * 1024:
                form.add_error("file", _("At most 5 MB."))
            else:
                try:
                    results = masspay.results_import(network=self.network, batch=batch, raw=upload.read(),
                                                     actor=request.user)
                except ValidationError as exc:
                    for where, problems in exc.message_dict.items():
                        for problem in problems:
                            # A line's problem names its line; the file's own needs no prefix.
                            form.add_error("file", problem if where in ("__all__", "file") else f"{where}: {problem}")
                else:
                    messages.success(request, ngettext("Result file applied: %(count)s row.",
                                                       "Result file applied: %(count)s rows.", len(results))
                                     % {"count": len(results)})
                    return redirect("operator_batch", pk=batch.pk)
        batch.refresh_from_db()
        return self.render_to_response(self.get_context_data(batch=batch, upload_form=form), status=400)


# --- payouts --------------------------------------------------------------------------------------------------
class PayoutListView(OperatorPage):
    template_name = "operator/payouts_list.html"

    def get_context_data(self, **kwargs):
        payouts = self.scoped(Payout).select_related("affiliate", "batch")
        filters = {key: self.request.GET.get(key, "").strip() for key in ("status", "method", "currency", "batch",
                                                                          "q")}
        if filters["status"] in Payout.Status.values:
            payouts = payouts.filter(status=filters["status"])
        if filters["method"] in MethodKind.values:
            payouts = payouts.filter(method_kind=filters["method"])
        if is_currency(filters["currency"].upper()):
            payouts = payouts.filter(currency=filters["currency"].upper())
        if filters["batch"].isdigit():
            payouts = payouts.filter(batch_id=int(filters["batch"]))
        if filters["q"]:
            payouts = payouts.filter(affiliate__name__icontains=filters["q"])
        return super().get_context_data(page=paginate(self.request, payouts), filters=filters,
                                        statuses=Payout.Status.choices, methods=MethodKind.choices, **kwargs)


class PayoutMarkView(OperatorAction):
    """POST mark a PayPal/bank (or on-hold) payout paid (optional provider reference) or failed (a reason), or switch
    an on-hold payout to the affiliate's PayPal/bank method; htmx swaps the row."""

    verb = "paid"

    def post(self, request, pk):
        payout = self.scoped_object(Payout, pk=pk)
        error = ""
        try:
            if self.verb == "paid":
                payout_mark_paid(network=self.network, payout=payout, actor=request.user,
                                 reference=request.POST.get("reference", "").strip()[:120])
            elif self.verb == "switched":
                payout_switch_method(network=self.network, payout=payout, actor=request.user)
            elif MarkFailedForm(request.POST).is_valid():
                payout_mark_failed(network=self.network, payout=payout, actor=request.user,
                                   reason=request.POST["reason"].strip())
            else:
                error = _("Say why it failed.")
        except PayoutTransitionError as exc:
            error = str(exc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        payout = Payout.objects.select_related("affiliate", "batch").get(network=self.network, pk=payout.pk)
        if is_htmx(request):
            return render(request, "operator/_payouts_row.html", {"payout": payout, "error": error,
                                                                   "in_batch": request.POST.get("in_batch") == "1"})
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Payout #%(id)s switched to %(method)s.") % {
                "id": payout.pk, "method": payout.get_method_kind_display()} if self.verb == "switched"
                else _("Payout #%(id)s marked %(verb)s.") % {"id": payout.pk, "verb": VERBS.get(self.verb, self.verb)})
        return redirect("operator_batch", pk=payout.batch_id)
