"""The commission detail page of each party (advertiser, affiliate, operators): one template over
`commissions.explain.commission_explanation`, read through the membership's visible commissions (else 404)."""

from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from network.models import Role
from network.permissions import OPERATORS
from network.web import NetworkPageMixin

from .explain import ADVERTISER, AFFILIATE, OPERATOR, commission_explanation
from .models import Commission


class CommissionExplanationPage(NetworkPageMixin, TemplateView):
    party: str
    base_template: str
    list_url: str

    def get_context_data(self, **kwargs):
        visible = self.scoped(Commission).visible_to(self.membership)
        commission = get_object_or_404(visible.select_related("network", "program", "advertiser", "affiliate",
                                                              "conversion"), pk=self.kwargs["pk"])
        return super().get_context_data(
            commission=commission, explanation=commission_explanation(commission, party=self.party),
            base_template=self.base_template, list_url=self.list_url, **kwargs)


class AdvertiserCommissionView(CommissionExplanationPage):
    roles = frozenset({Role.ADVERTISER})
    party, base_template, list_url = ADVERTISER, "advertiser/base.html", "advertiser_commissions"
    template_name = "advertiser/commissions_detail.html"


class PartnerCommissionView(CommissionExplanationPage):
    roles = frozenset({Role.AFFILIATE})
    party, base_template, list_url = AFFILIATE, "partner/portal_base.html", "partner_commissions"
    template_name = "partner/commissions_detail.html"


class OperatorCommissionView(CommissionExplanationPage):
    roles = OPERATORS
    party, base_template, list_url = OPERATOR, "operator/base.html", "operator_fraud"
    template_name = "operator/commissions_detail.html"
