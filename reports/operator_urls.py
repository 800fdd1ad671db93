"""The operator's report page; registers its nav item at import."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import operator_views

navigation.register("operator", _("Reports"), "operator_reports", order=60)

urlpatterns = [path("operator/reports/", operator_views.ReportsView.as_view(), name="operator_reports")]
