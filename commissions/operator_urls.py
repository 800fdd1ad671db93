"""The operator's commission pages: the fraud review queue."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation
from programs.advertiser_forms import ID_PATTERN

from . import operator_views
from .explain_views import OperatorCommissionView

urlpatterns = [
    path("operator/fraud/", operator_views.FraudQueueView.as_view(), name="operator_fraud"),
    path("operator/fraud/<int:pk>/decide", operator_views.FraudDecideView.as_view(), name="operator_fraud_decide"),
    re_path(rf"^operator/commissions/(?P<pk>{ID_PATTERN})/$", OperatorCommissionView.as_view(),
            name="operator_commission"),
]

navigation.register("operator", _("Fraud review"), "operator_fraud", order=30)
