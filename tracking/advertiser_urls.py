"""The advertiser's conversions and integration pages (included at the root in config/urls.py, before the
network app's pages: this integration page extends the plain API-key page at the same address)."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation
from programs.advertiser_forms import ID_PATTERN

from . import advertiser_import_views as import_views
from . import advertiser_stripe_views as stripe_views
from . import advertiser_views as views

navigation.register("advertiser", _("Conversions"), "advertiser_conversions", order=40)
navigation.register("advertiser", _("Import conversions"), "advertiser_imports", order=41)
PK = f"(?P<pk>{ID_PATTERN})"

urlpatterns = [
    path("advertiser/conversions/", views.ConversionListView.as_view(), name="advertiser_conversions"),
    path("advertiser/conversions/import/", import_views.ImportListView.as_view(), name="advertiser_imports"),
    re_path(rf"^advertiser/conversions/import/{PK}/$", import_views.ImportDetailView.as_view(),
            name="advertiser_import"),
    # advertiser/conversions/<pk>/ (advertiser_conversion): routed by commissions.advertiser_urls, with commissions.
    path("advertiser/integration/", views.IntegrationView.as_view(), name="advertiser_integration_full"),
    path("advertiser/integration/test-conversion", views.TestConversionView.as_view(),
         name="advertiser_test_conversion"),
    path("advertiser/integration/pixel-token/rotate", views.PixelTokenRotateView.as_view(),
         name="advertiser_pixel_rotate"),
    path("advertiser/integration/webhooks", views.WebhookCreateView.as_view(), name="advertiser_webhook_new"),
    re_path(rf"^advertiser/integration/webhooks/{PK}/$", views.WebhookDetailView.as_view(),
            name="advertiser_webhook"),
    re_path(rf"^advertiser/integration/webhooks/{PK}/(?P<verb>test|enable|disable|delete)$",
            views.WebhookActionView.as_view(), name="advertiser_webhook_action"),
    re_path(rf"^advertiser/integration/deliveries/{PK}/resend$", views.DeliveryResendView.as_view(),
            name="advertiser_delivery_resend"),
    path("advertiser/integration/stripe", stripe_views.StripeIntegrationCreateView.as_view(),
         name="advertiser_stripe_new"),
    re_path(rf"^advertiser/integration/stripe/{PK}/(?P<verb>secret|enable|disable|delete)$",
            stripe_views.StripeIntegrationActionView.as_view(), name="advertiser_stripe_action"),
]
