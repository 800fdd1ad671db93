"""The partner portal's payouts and payout settings (methods, tax details) pages, and their nav items."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import partner_views as views

urlpatterns = [
    path("partner/payouts/", views.PayoutsView.as_view(), name="partner_payouts"),
    path("partner/payouts/settings/", views.PayoutSettingsView.as_view(), name="partner_payout_settings"),
    path("partner/payouts/settings/stripe", views.StripeOnboardingView.as_view(), name="partner_payout_stripe"),
    path("partner/payouts/settings/<int:pk>/default", views.MethodActionView.as_view(action="default"),
         name="partner_payout_method_default"),
    path("partner/payouts/settings/<int:pk>/remove", views.MethodActionView.as_view(action="remove"),
         name="partner_payout_method_remove"),
]

navigation.register("partner", _("Payouts"), "partner_payouts", order=60)
navigation.register("partner", _("Payout settings"), "partner_payout_settings", order=61)
