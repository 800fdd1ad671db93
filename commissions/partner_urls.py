"""The partner portal's overview (KPIs and chart) and commissions pages, and their nav items.

Included before `network.web_urls`, so `/partner/` serves the overview with the money KPIs on top of the
network's partner overview (same template, `overview_widgets` block)."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation
from programs.advertiser_forms import ID_PATTERN

from . import partner_views as views
from .explain_views import PartnerCommissionView
from .referral_views import ReferralsView

urlpatterns = [
    path("partner/", views.PartnerOverviewView.as_view(), name="partner_overview"),
    path("partner/charts/performance.json", views.PerformanceChartView.as_view(), name="partner_chart_performance"),
    path("partner/commissions/", views.CommissionsView.as_view(), name="partner_commissions"),
    re_path(rf"^partner/commissions/(?P<pk>{ID_PATTERN})/$", PartnerCommissionView.as_view(),
            name="partner_commission"),
    path("partner/referrals/", ReferralsView.as_view(), name="partner_referrals"),
]

navigation.register("partner", _("Commissions"), "partner_commissions", order=50)
navigation.register("partner", _("Referrals"), "partner_referrals", order=55)
