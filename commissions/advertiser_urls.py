"""The advertiser's overview, partners and commissions pages (included at the root in config/urls.py, before
the network app's pages: this overview replaces the plain one at the same address)."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation
from programs.advertiser_forms import ID_PATTERN

from . import advertiser_views as views
from .conversion_views import ConversionCommissionsView
from .explain_views import AdvertiserCommissionView

navigation.register("advertiser", _("Partners"), "advertiser_partners", order=30)
navigation.register("advertiser", _("Commissions"), "advertiser_commissions", order=50)
PK = f"(?P<pk>{ID_PATTERN})"

urlpatterns = [
    path("advertiser/", views.OverviewView.as_view(), name="advertiser_overview"),
    path("advertiser/charts/daily.json", views.DailyChartView.as_view(), name="advertiser_chart_daily"),
    path("advertiser/partners/", views.PartnersView.as_view(), name="advertiser_partners"),
    path("advertiser/commissions/", views.CommissionListView.as_view(), name="advertiser_commissions"),
    path("advertiser/commissions/bulk", views.CommissionBulkView.as_view(), name="advertiser_commissions_bulk"),
    re_path(rf"^advertiser/commissions/{PK}/$", AdvertiserCommissionView.as_view(), name="advertiser_commission"),
    re_path(rf"^advertiser/commissions/{PK}/(?P<verb>approve|reject)$", views.CommissionDecideView.as_view(),
            name="advertiser_commission_decide"),
    # Tracking's conversion page, with the conversion's commissions (tracking cannot read commissions).
    re_path(rf"^advertiser/conversions/{PK}/$", ConversionCommissionsView.as_view(), name="advertiser_conversion"),
]
