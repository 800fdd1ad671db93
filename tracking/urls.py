from django.urls import path, re_path

from core.api import Router

from .api import (
    ConversionPixelView,
    ConversionViewSet,
    DeliveryViewSet,
    PostbackTestView,
    PostbackView,
    WebhookEndpointViewSet,
    WebhookEventTypesView,
    conversions_entry,
)
from .api_clicks import LinkClickViewSet
from .api_imports import ConversionImportCreateView, ConversionImportViewSet
from .api_stripe import StripeBillingWebhookView, StripeIntegrationViewSet

router = Router()
router.register("conversions", ConversionViewSet, basename="conversion")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("imports", ConversionImportViewSet, basename="conversion-import")
router.register("integrations/stripe", StripeIntegrationViewSet, basename="stripe-integration")

urlpatterns = [
    re_path(r"^conversions/?$", conversions_entry),  # the postback's fast path; the router's route documents it
    re_path(r"^conversions/import/?$", ConversionImportCreateView.as_view(),
            name="conversion-import-create"),
    path("conversions/pixel", ConversionPixelView.as_view(), name="conversion-pixel"),  # before conversions/<pk>
    path("webhook-events", WebhookEventTypesView.as_view(), name="webhook-events"),
    re_path(r"^links/(?P<id>[0-9]+)/clicks/?$", LinkClickViewSet.as_view({"get": "list"}), name="link-clicks"),
    path("postback", PostbackView.as_view(), name="postback"),
    path("postback/test", PostbackTestView.as_view(), name="postback-test"),
    path("integrations/stripe/<str:token>/webhook", StripeBillingWebhookView.as_view(),
         name="stripe-billing-webhook"),
    *router.urls,
]
