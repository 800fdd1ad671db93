"""The operator's commission pages: the fraud review queue."""

from django.urls import path

from network import navigation

from . import operator_views

urlpatterns = [
    path("operator/fraud/", operator_views.FraudQueueView.as_view(), name="operator_fraud"),
    path("operator/fraud/<int:pk>/decide", operator_views.FraudDecideView.as_view(), name="operator_fraud_decide"),
]

navigation.register("operator", "Fraud review", "operator_fraud", order=30)
