"""The operators' webhook endpoints pages (included at the root in config/urls.py)."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation
from programs.advertiser_forms import ID_PATTERN

from . import operator_views as views

navigation.register("operator", _("Webhooks"), "operator_webhooks", order=915)
PK = f"(?P<pk>{ID_PATTERN})"

urlpatterns = [
    path("operator/webhooks/", views.WebhookListView.as_view(), name="operator_webhooks"),
    re_path(rf"^operator/webhooks/{PK}/$", views.WebhookDetailView.as_view(), name="operator_webhook"),
    re_path(rf"^operator/webhooks/{PK}/(?P<verb>test|enable|disable|delete)$", views.WebhookActionView.as_view(),
            name="operator_webhook_action"),
    re_path(rf"^operator/webhooks/deliveries/{PK}/resend$", views.DeliveryResendView.as_view(),
            name="operator_delivery_resend"),
]
