from django.urls import re_path

from core.api import Router

from . import api

router = Router()
router.register("payout-methods", api.PayoutMethodViewSet, basename="payout-method")
router.register("payouts", api.PayoutViewSet, basename="payout")
router.register("payout-batches", api.PayoutBatchViewSet, basename="payout-batch")

urlpatterns = [
    re_path(r"^payout-settings/?$", api.PayoutSettingsView.as_view(), name="payout-settings"),
    re_path(r"^tax-details/?$", api.TaxDetailsView.as_view(), name="tax-details"),
    re_path(r"^tax-details/form/?$", api.TaxFormView.as_view(), name="tax-form"),
    re_path(r"^stripe/webhook/?$", api.StripeWebhookView.as_view(), name="stripe-webhook"),
    *router.urls,
]
