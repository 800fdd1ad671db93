from django.urls import path

from core.api import Router

from .api import (
    ConversionPixelView,
    ConversionViewSet,
    DeliveryViewSet,
    PostbackTestView,
    PostbackView,
    WebhookEndpointViewSet,
)

router = Router()
router.register("conversions", ConversionViewSet, basename="conversion")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("conversions/pixel", ConversionPixelView.as_view(), name="conversion-pixel"),  # before conversions/<pk>
    path("postback", PostbackView.as_view(), name="postback"),
    path("postback/test", PostbackTestView.as_view(), name="postback-test"),
    *router.urls,
]
