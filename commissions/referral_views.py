"""The partner portal's referrals page: the affiliate's referral link (the network's join page with its code),
who joined through it, and what it earned from them as a referrer (second-tier commissions)."""

from urllib.parse import urlencode

from django.urls import reverse

from network.models import Affiliate
from network.views import PartnerPage
from network.web import paginate
from programs import selectors as program_selectors
from programs.models import Program

from .selectors import referral_earnings


class ReferralsView(PartnerPage):
    template_name = "partner/referrals.html"

    def get_context_data(self, **kwargs):
        join = reverse("network_join", args=[self.network.slug])
        link = self.request.build_absolute_uri(f"{join}?{urlencode({'ref': self.party.referral_code})}")
        referrals = Affiliate.objects.for_network(self.network).filter(referred_by=self.party) \
            .order_by("-created_at", "-id")
        page = paginate(self.request, referrals)
        earnings = referral_earnings(network=self.network, affiliate=self.party)
        rows = [{"affiliate": a, "earned": earnings["by_referral"].get(a.pk, [])} for a in page.object_list]
        programs = program_selectors.programs_visible_to(network=self.network, membership=self.membership).filter(
            status=Program.Status.ACTIVE, second_tier_percent__gt=0).order_by("name", "id")
        return super().get_context_data(referral_url=link, page=page, rows=rows, totals=earnings["totals"],
                                        programs=programs, **kwargs)
