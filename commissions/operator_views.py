"""The operator's fraud review queue: commissions held for review (their conversion's fraud signals and click),
approved, released to the hold period, or rejected through the commission services (which write the audit log)."""

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from network.permissions import OPERATORS
from network.web import NetworkPageMixin, is_htmx, paginate
from tracking.models import Click, Conversion

from . import services
from .models import Commission

DECISIONS = {"approve": gettext_lazy("approved"), "release": gettext_lazy("released to the hold period"),
             "reject": gettext_lazy("rejected")}


def _with_clicks(network, commissions) -> list:
    """Attach each held commission's click (country, bot and duplicate flags) when it is still stored."""
    rows = list(commissions)
    click_ids = {c.conversion.click_id for c in rows if c.conversion_id and c.conversion.click_id}
    clicks = {c.click_id: c for c in Click.objects.for_network(network).filter(click_id__in=click_ids)}
    for commission in rows:
        conversion = commission.conversion
        commission.click = clicks.get(conversion.click_id) if conversion and conversion.click_id else None
    return rows


class FraudQueueView(NetworkPageMixin, TemplateView):
    roles = OPERATORS
    template_name = "operator/commissions_fraud.html"

    def get_context_data(self, **kwargs):
        held = (self.scoped(Commission).filter(status=Commission.Status.ON_HOLD, tier=1)
                .select_related("affiliate", "program", "advertiser", "conversion").order_by("created_at", "id"))
        page = paginate(self.request, held)
        page.object_list = _with_clicks(self.network, page.object_list)
        uncomputed = (self.scoped(Conversion).filter(status=Conversion.Status.HELD, commissions__isnull=True)
                      .select_related("affiliate", "program").order_by("-created_at")[:20])
        return super().get_context_data(page=page, uncomputed=uncomputed, **kwargs)


class FraudDecideView(NetworkPageMixin, View):
    """POST decision=approve|release|reject (reason optional) for a held commission; htmx swaps its row."""

    roles = OPERATORS

    def post(self, request, pk):
        commission = self.scoped_object(Commission, pk=pk)
        decision = request.POST.get("decision", "")
        if decision not in DECISIONS:
            return HttpResponseBadRequest("decision must be approve, release or reject.")
        reason = request.POST.get("reason", "").strip()[:255]
        error = ""
        try:
            if decision == "approve":
                services.commission_approve(network=self.network, commission=commission, actor=request.user,
                                            operator=True)
            elif decision == "release":
                services.commission_release(network=self.network, commission=commission, actor=request.user)
            else:
                services.commission_reject(network=self.network, commission=commission, actor=request.user,
                                           reason=reason or "Rejected after fraud review", operator=True)
        except (services.TransitionError, services.TransitionForbidden) as exc:
            error = str(exc)
        commission.refresh_from_db()
        if is_htmx(request):
            [commission] = _with_clicks(self.network, [Commission.objects.select_related(
                "affiliate", "program", "advertiser", "conversion").get(network=self.network, pk=commission.pk)])
            return render(request, "operator/_commissions_fraud_row.html",
                          {"commission": commission, "error": error, "decided": DECISIONS.get(decision)})
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Commission #%(commission_id)s %(value)s.") % {
                "commission_id": commission.pk, "value": DECISIONS[decision]})
        return redirect("operator_fraud")
