"""The partner's report page; registers its nav item at import."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import partner_views

navigation.register("partner", _("Reports"), "partner_reports", order=60)

urlpatterns = [path("partner/reports/", partner_views.ReportsView.as_view(), name="partner_reports")]
