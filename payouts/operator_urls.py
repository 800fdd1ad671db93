"""The operator's payout pages (batches, payouts, payout settings) and the overview's KPI widget."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import operator_views as views

urlpatterns = [
    path("operator/charts/kpis.json", views.KpiChartView.as_view(), name="operator_chart_kpis"),
    path("operator/payouts/", views.PayoutListView.as_view(), name="operator_payouts"),
    path("operator/payouts/<int:pk>/mark-paid", views.PayoutMarkView.as_view(verb="paid"),
         name="operator_payout_mark_paid"),
    path("operator/payouts/<int:pk>/mark-failed", views.PayoutMarkView.as_view(verb="failed"),
         name="operator_payout_mark_failed"),
    path("operator/payouts/<int:pk>/switch-method", views.PayoutMarkView.as_view(verb="switched"),
         name="operator_payout_switch_method"),
    path("operator/payouts/batches/", views.BatchListView.as_view(), name="operator_batches"),
    path("operator/payouts/batches/<int:pk>/", views.BatchDetailView.as_view(), name="operator_batch"),
    path("operator/payouts/batches/<int:pk>/paypal.csv", views.BatchCsvView.as_view(), {"method": "paypal"},
         name="operator_batch_csv_paypal"),
    path("operator/payouts/batches/<int:pk>/bank.csv", views.BatchCsvView.as_view(), {"method": "bank"},
         name="operator_batch_csv_bank"),
    path("operator/payouts/batches/<int:pk>/results", views.BatchResultsView.as_view(), name="operator_batch_results"),
    path("operator/payouts/settings/", views.PayoutSettingsView.as_view(), name="operator_payout_settings"),
]

navigation.register("operator", _("Payout batches"), "operator_batches", order=40)
navigation.register("operator", _("Payouts"), "operator_payouts", order=41)
navigation.register("operator", _("Payout settings"), "operator_payout_settings", order=925)
navigation.register_widget("operator", "payouts_kpis", template="operator/_payouts_kpis.html",
                           context=views.overview_widget, order=10)
