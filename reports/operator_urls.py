"""The operator's report page and the page of each advertiser and affiliate; registers the nav item at import."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation
from programs.advertiser_forms import ID_PATTERN

from . import operator_views

navigation.register("operator", _("Reports"), "operator_reports", order=60)

urlpatterns = [
    path("operator/reports/", operator_views.ReportsView.as_view(), name="operator_reports"),
    # One advertiser's or affiliate's page (the lists' status actions live in network.web_urls).
    re_path(rf"^operator/affiliates/(?P<pk>{ID_PATTERN})/$", operator_views.AffiliatePageView.as_view(),
            name="operator_affiliate"),
    re_path(rf"^operator/advertisers/(?P<pk>{ID_PATTERN})/$", operator_views.AdvertiserPageView.as_view(),
            name="operator_advertiser"),
]
