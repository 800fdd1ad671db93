"""The partner portal's postback page (URL, test fire, delivery log) and its nav item."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import partner_views as views

urlpatterns = [
    path("partner/postback/", views.PostbackView.as_view(), name="partner_postback"),
    path("partner/postback/test", views.PostbackTestView.as_view(), name="partner_postback_test"),
    path("partner/postback/deliveries/<int:pk>/", views.DeliveryView.as_view(), name="partner_delivery"),
]

navigation.register("partner", _("Postback"), "partner_postback", order=70)
