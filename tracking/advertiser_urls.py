"""The advertiser's conversions and integration pages (included at the root in config/urls.py, before the
network app's pages: this integration page extends the plain API-key page at the same address)."""

from django.urls import path, re_path

from network import navigation

from . import advertiser_views as views

navigation.register("advertiser", "Conversions", "advertiser_conversions", order=40)

urlpatterns = [
    path("advertiser/conversions/", views.ConversionListView.as_view(), name="advertiser_conversions"),
    path("advertiser/conversions/<int:pk>/", views.ConversionDetailView.as_view(), name="advertiser_conversion"),
    path("advertiser/integration/", views.IntegrationView.as_view(), name="advertiser_integration_full"),
    path("advertiser/integration/webhooks", views.WebhookCreateView.as_view(), name="advertiser_webhook_new"),
    path("advertiser/integration/webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="advertiser_webhook"),
    re_path(r"^advertiser/integration/webhooks/(?P<pk>[0-9]+)/(?P<verb>test|enable|disable|delete)$",
            views.WebhookActionView.as_view(), name="advertiser_webhook_action"),
    path("advertiser/integration/deliveries/<int:pk>/resend", views.DeliveryResendView.as_view(),
         name="advertiser_delivery_resend"),
]
