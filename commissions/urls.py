from django.urls import re_path

from core.api import Router

from . import api

router = Router()
router.register("commissions", api.CommissionViewSet, basename="commission")
router.register("ledger/transactions", api.LedgerTransactionViewSet, basename="ledger-transaction")

urlpatterns = [re_path(r"^balance/?$", api.BalanceView.as_view(), name="balance"), *router.urls]
