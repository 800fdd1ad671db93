"""Commissions API: list/read, approve/reject (advertiser, operators), hold/release (operators), bulk approve,
the affiliate balance and the ledger's transactions (operators, read-only)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core import export
from core.api import id_param
from core.filters import id_parameter
from network.models import Affiliate, Role
from network.permissions import ALL_ROLES, OPERATORS
from network.tenancy import TenantGenericAPIView, TenantViewSet

from . import ledger, services
from .models import Commission, Transaction
from .selectors import CommissionFilter
from .serializers import (
    BalanceSerializer,
    BulkApproveResultSerializer,
    BulkApproveSerializer,
    CommissionDetailSerializer,
    CommissionSerializer,
    RejectSerializer,
    TransactionSerializer,
)

DECIDERS = OPERATORS | {Role.ADVERTISER}
COMMISSION_CSV = (
    export.number("id"), export.text("status"), export.text("kind"), export.number("tier"), export.number("parent"),
    export.number("program"), export.number("advertiser"), export.number("affiliate"), export.number("conversion"),
    export.text("order_id", "conversion__order_id"), export.text("currency"), export.money("amount"),
    export.money("revenue"), export.money("reversed_amount"), export.money("reversed_revenue"),
    export.computed("remaining_amount", ("amount", "reversed_amount", "currency"),
                    lambda amount, reversed_amount, currency: (amount - reversed_amount, currency), kind="money"),
    export.number("clicks"), export.text("reason"), export.time("hold_until"), export.time("approved_at"),
    export.time("rejected_at"), export.time("reversed_at"), export.time("paid_at"), export.time("created_at"),
    export.number("adjusts"),
)
# What each party's CSV leaves out: CommissionSerializer's rule. An affiliate never sees revenue; an advertiser sees
# what it owes (`revenue`), the affiliate's side only where it is the same figure, so those columns would add
# nothing but a way to tell where the network keeps a margin.
COMMISSION_CSV_HIDDEN = {Role.AFFILIATE: {"revenue", "reversed_revenue"},
                         Role.ADVERTISER: {"amount", "reversed_amount", "remaining_amount"}}


def _transition_response(call):
    """Run a transition; illegal ones answer 400 naming the current state, held ones 403 for advertisers."""
    try:
        return call(), None
    except services.TransitionError as exc:
        return None, Response({"detail": str(exc), "status": exc.status}, status=status.HTTP_400_BAD_REQUEST)
    except services.TransitionForbidden as exc:
        return None, Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)


class CommissionViewSet(export.CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Commission
    csv_name = "commissions"
    serializer_class = CommissionSerializer
    filterset_class = CommissionFilter
    roles = ALL_ROLES
    action_roles = {"approve": DECIDERS, "reject": DECIDERS, "bulk_approve": DECIDERS,
                    "hold": OPERATORS, "release": OPERATORS}

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership).select_related("conversion")

    def get_serializer_class(self):
        # The explanation reads the click, the audit log...: on the one-commission read only, not on lists.
        if self.action == "retrieve":
            return CommissionDetailSerializer
        return super().get_serializer_class()

    def get_csv_columns(self):
        hidden = COMMISSION_CSV_HIDDEN.get(self.role, set())
        return [column for column in COMMISSION_CSV if column.name not in hidden]

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATORS

    def _decide(self, call):
        commission, error = _transition_response(call)
        if error is not None:
            return error
        commission.refresh_from_db()
        return Response(self.get_serializer(commission).data)

    @extend_schema(request=None, responses=CommissionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        commission = self.get_object()
        return self._decide(lambda: services.commission_approve(
            network=self.network, commission=commission, actor=request.user, operator=self.is_operator))

    @extend_schema(request=RejectSerializer, responses=CommissionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        commission = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(lambda: services.commission_reject(
            network=self.network, commission=commission, actor=request.user, operator=self.is_operator,
            reason=body.validated_data["reason"]))

    @extend_schema(request=RejectSerializer, responses=CommissionSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        commission = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(lambda: services.commission_hold(
            network=self.network, commission=commission, actor=request.user, reason=body.validated_data["reason"]))

    @extend_schema(request=None, responses=CommissionSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        commission = self.get_object()
        return self._decide(lambda: services.commission_release(
            network=self.network, commission=commission, actor=request.user))

    @extend_schema(request=BulkApproveSerializer, responses=BulkApproveResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request):
        body = BulkApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        visible = set(self.get_queryset().filter(pk__in=body.validated_data["ids"]).values_list("pk", flat=True))
        results, approved = [], 0
        for pk in dict.fromkeys(body.validated_data["ids"]):  # each once, in the order given
            if pk not in visible:
                results.append({"id": pk, "result": "not_found", "detail": "Not found."})
                continue
            commission, error = _transition_response(lambda pk=pk: services.commission_approve(
                network=self.network, commission=pk, actor=request.user, operator=self.is_operator))
            if error is not None:
                results.append({"id": pk, "result": "error", **error.data})
            else:
                approved += 1
                results.append({"id": pk, "result": "approved", "status": commission.status})
        return Response({"approved": approved, "results": results})


class BalanceView(TenantGenericAPIView):
    """An affiliate's balance per currency (pending, approved, in payment, paid). Operators pass ?affiliate=."""

    model = Affiliate
    roles = OPERATORS | {Role.AFFILIATE}
    serializer_class = BalanceSerializer

    @extend_schema(
        parameters=[id_parameter("affiliate", "Whose balance (an affiliate's key reads its own).",
                                 required_for=OPERATORS)],
        responses={200: BalanceSerializer, 404: OpenApiResponse(description="no such affiliate")},
    )
    def get(self, request):
        if self.role == Role.AFFILIATE:
            if "affiliate" in request.query_params:  # ignored for an affiliate, but held to what the schema says
                id_param(request, "affiliate", "An affiliate id is required.")
            affiliate = self.membership.party
            if affiliate is None:
                return Response({"detail": "This membership has no affiliate profile."}, status=404)
        else:
            pk = id_param(request, "affiliate", "An affiliate id is required.")
            affiliate = get_object_or_404(self.get_queryset(), pk=pk)
        balances = ledger.affiliate_balances(network=self.network, affiliate=affiliate)
        body = {"affiliate": affiliate.pk, "balances": [
            {k: str(v) for k, v in row.items()} for row in balances
        ]}
        return Response(body)


class LedgerTransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The ledger, read-only, for operators: each transaction with its balanced entries."""

    model = Transaction
    serializer_class = TransactionSerializer
    roles = OPERATORS
    filterset_fields = ["kind", "ref_type", "ref_id"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("entries__account")
