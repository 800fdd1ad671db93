"""The advertiser's report page; registers its nav item at import."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import advertiser_views

navigation.register("advertiser", _("Reports"), "advertiser_reports", order=60)

urlpatterns = [path("advertiser/reports/", advertiser_views.ReportsView.as_view(), name="advertiser_reports")]
