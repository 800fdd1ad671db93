"""The operator's report page (its own numbers only: the selector scopes by membership), and the page of one
advertiser or affiliate: profile, programs, group, statistics, commissions, payouts, referrals and audit entries
(the top layer: it reads every app)."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from commissions.models import Commission
from network.models import Advertiser, Affiliate
from network.operator_views import OperatorPage
from network.permissions import OPERATORS
from network.web import paginate
from payouts.models import Payout
from programs.models import Partnership, Program

from .party_figures import affiliate_referrals, commission_totals, party_audit, party_statistics
from .web import ReportPage

RECENT = 20


class ReportsView(ReportPage):
    roles = OPERATORS
    template_name = "operator/reports_index.html"


class PartyPage(OperatorPage):
    """One advertiser's or affiliate's page; another network's answers 404 (`scoped_object`)."""

    model = None

    def get_context_data(self, **kwargs):
        party = get_object_or_404(self.scoped(self.model).select_related("membership__user"), pk=self.kwargs["pk"])
        commissions = (self.scoped(Commission).filter(**{self.kind: party})
                       .select_related("program", "advertiser", "affiliate").order_by("-created_at", "-id"))
        return super().get_context_data(
            party=party, kind=self.kind, statistics=party_statistics(party), totals=commission_totals(party),
            commissions=paginate(self.request, commissions),
            audit=party_audit(party)[:RECENT], **self.party_context(party), **kwargs)

    @property
    def kind(self) -> str:
        return self.model._meta.model_name

    def party_context(self, party) -> dict:
        return {}


class AffiliatePageView(PartyPage):
    template_name = "operator/affiliate.html"
    model = Affiliate

    def party_context(self, affiliate) -> dict:
        return {
            "partnerships": (self.scoped(Partnership).filter(affiliate=affiliate)
                             .select_related("program__advertiser").order_by("-applied_at", "-id")),
            "payouts": (self.scoped(Payout).filter(affiliate=affiliate).select_related("batch")
                        .order_by("-created_at", "-id")[:RECENT]),
            "referrals": affiliate_referrals(affiliate),
        }


class AdvertiserPageView(PartyPage):
    template_name = "operator/advertiser.html"
    model = Advertiser

    def party_context(self, advertiser) -> dict:
        partners = Count("partnerships", filter=Q(partnerships__status=Partnership.Status.APPROVED), distinct=True)
        waiting = Count("partnerships", filter=Q(partnerships__status=Partnership.Status.PENDING), distinct=True)
        return {
            "programs": (self.scoped(Program).filter(advertiser=advertiser)
                         .annotate(partners=partners, waiting=waiting).order_by("name", "id")),
        }
