"""Payouts API: payout methods and tax details (affiliate: own; operators: read), payouts, batches (operators run
them, download their CSV, upload results, mark payouts), payout settings, and the Stripe webhook."""

import django_filters
import stripe
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core import export
from core.api import id_param
from core.filters import IdFilter, id_parameter
from core.inputs import JSONParser
from network.models import Affiliate, Role
from network.permissions import OPERATORS
from network.tenancy import TenantGenericAPIView, TenantViewSet

from . import masspay, services
from .batches import BatchRunning, payout_batch_run, payout_batch_start
from .holds import payout_switch_method
from .models import MethodKind, Payout, PayoutBatch, PayoutMethod, TaxDetails
from .onboarding import payout_method_stripe_sync
from .policy import settings_normalize
from .providers import stripe_connect
from .renderers import CSVRenderer, errors_as_json
from .serializers import (
    MarkFailedSerializer,
    MarkPaidSerializer,
    PayoutBatchSerializer,
    PayoutMethodSerializer,
    PayoutMethodUpdateSerializer,
    PayoutSerializer,
    PayoutSettingsSerializer,
    PayoutSwitchMethodSerializer,
    ResultsSerializer,
    ResultsUploadSerializer,
    StripeAccountSerializer,
    StripeOnboardingRequestSerializer,
    StripeOnboardingSerializer,
    TaxDetailsSerializer,
)
from .tasks import payout_batch_run_now
from .transitions import PayoutTransitionError, payout_mark_failed, payout_mark_paid
from .webhooks import stripe_event_handle

READERS = OPERATORS | {Role.AFFILIATE}
AFFILIATE = frozenset({Role.AFFILIATE})


def _own_affiliate(view) -> Affiliate:
    affiliate = view.membership.party
    if affiliate is None:
        from rest_framework.exceptions import NotFound

        raise NotFound("This membership has no affiliate profile.")
    return affiliate


def _stripe_error(exc: Exception) -> Response:
    if isinstance(exc, stripe_connect.StripeNotConfigured):
        return Response({"detail": "Stripe payouts are not configured on this network."}, status=503)
    return Response({"detail": f"Stripe: {getattr(exc, 'user_message', None) or exc}"}, status=502)


class PayoutMethodFilter(django_filters.FilterSet):
    affiliate = IdFilter(field_name="affiliate_id")
    kind = django_filters.ChoiceFilter(choices=MethodKind.choices)

    class Meta:
        model = PayoutMethod
        fields = ["affiliate", "kind"]


class PayoutMethodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """An affiliate's payout methods (one is the default). Operators read everyone's."""

    model = PayoutMethod
    serializer_class = PayoutMethodSerializer
    filterset_class = PayoutMethodFilter
    roles = READERS
    action_roles = {"create": AFFILIATE, "partial_update": AFFILIATE, "update": AFFILIATE, "destroy": AFFILIATE,
                    "set_default": AFFILIATE, "stripe_onboarding": AFFILIATE, "stripe_account": AFFILIATE}

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership)

    def create(self, request):
        body = PayoutMethodSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        method = services.payout_method_create(network=self.network, affiliate=_own_affiliate(self),
                                               actor=request.user, **body.validated_data)
        method.refresh_from_db()
        return Response(PayoutMethodSerializer(method).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PayoutMethodUpdateSerializer, responses=PayoutMethodSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=PayoutMethodUpdateSerializer, responses=PayoutMethodSerializer)
    def update(self, request, pk=None, partial=False):
        """PUT replaces the method's details (every writable field required); PATCH changes the fields sent."""
        method = self.get_object()
        body = PayoutMethodUpdateSerializer(method, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        method = services.payout_method_update(network=self.network, method=method, actor=request.user,
                                               **body.validated_data)
        method.refresh_from_db()
        return Response(PayoutMethodSerializer(method).data)

    def destroy(self, request, pk=None):
        services.payout_method_delete(network=self.network, method=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=PayoutMethodSerializer)
    @action(detail=True, methods=["post"], url_path="set-default")
    def set_default(self, request, pk=None):
        method = services.payout_method_set_default(network=self.network, method=self.get_object(),
                                                    actor=request.user)
        return Response(PayoutMethodSerializer(method).data)

    @extend_schema(request=StripeOnboardingRequestSerializer,
                   responses={200: StripeOnboardingSerializer, 400: OpenApiTypes.OBJECT, 502: OpenApiTypes.OBJECT,
                              503: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"], url_path="stripe-onboarding")
    def stripe_onboarding(self, request):
        """Connect a Stripe Express account (created in `country`, else the tax details' country, when the
        affiliate has none) and get its onboarding link; Stripe sends the affiliate back to the partner portal's
        payout settings, which read the account's state from Stripe."""
        body = StripeOnboardingRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        back = request.build_absolute_uri(reverse("partner_payout_settings"))
        try:
            method, url = services.payout_method_stripe_onboard(
                network=self.network, affiliate=_own_affiliate(self), actor=request.user,
                country=body.validated_data["country"],
                refresh_url=f"{back}?stripe=refresh", return_url=f"{back}?stripe=return")
        except (stripe.StripeError, stripe_connect.StripeNotConfigured) as exc:
            return _stripe_error(exc)
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"url": url, "method": PayoutMethodSerializer(method).data})


    @extend_schema(request=None, responses={200: StripeAccountSerializer, 404: OpenApiTypes.OBJECT,
                                            502: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"], url_path="stripe-account")
    def stripe_account(self, request):
        """The affiliate's Stripe Express account as Stripe has it now (its onboarding state is recorded too)."""
        if not stripe_connect.is_configured():
            return _stripe_error(stripe_connect.StripeNotConfigured())
        try:
            state = payout_method_stripe_sync(network=self.network, affiliate=_own_affiliate(self))
        except stripe.StripeError as exc:
            return _stripe_error(exc)
        if state is None:
            return Response({"detail": "No Stripe account yet: POST stripe-onboarding first."}, status=404)
        return Response(StripeAccountSerializer(state).data)


class TaxDetailsView(TenantGenericAPIView):
    """The affiliate's tax details (multipart for the W-9/W-8BEN upload). Operators pass ?affiliate=."""

    model = TaxDetails
    serializer_class = TaxDetailsSerializer
    roles = READERS
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _details(self, request) -> TaxDetails:
        if self.role == Role.AFFILIATE:
            if "affiliate" in request.query_params:  # ignored for an affiliate, but held to what the schema says
                id_param(request, "affiliate", "An affiliate id is required.")
            affiliate = _own_affiliate(self)
        else:
            pk = id_param(request, "affiliate", "An affiliate id is required.")
            affiliate = get_object_or_404(Affiliate.objects.for_network(self.network), pk=pk)
        return self.get_queryset().filter(affiliate=affiliate).first() or TaxDetails(network=self.network,
                                                                                     affiliate=affiliate)

    @extend_schema(parameters=[id_parameter("affiliate", "Whose tax details (an affiliate's key reads its own).",
                                            required_for=OPERATORS)],
                   responses={200: TaxDetailsSerializer, 404: OpenApiResponse(description="no such affiliate")})
    def get(self, request):
        return Response(self.get_serializer(self._details(request)).data)

    def patch(self, request, partial=True):
        if self.role != Role.AFFILIATE:
            return Response({"detail": "Only the affiliate edits its tax details."}, status=403)
        body = self.get_serializer(self._details(request), data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        details = services.tax_details_update(network=self.network, affiliate=_own_affiliate(self),
                                              actor=request.user, **body.validated_data)
        return Response(self.get_serializer(details).data)

    def put(self, request):
        """Replaces the tax details: every writable field required (PATCH changes the fields sent)."""
        return self.patch(request, partial=False)


class TaxFormView(TenantGenericAPIView):
    """Download the uploaded tax form (the affiliate its own; operators pass ?affiliate=)."""

    model = TaxDetails
    roles = READERS
    serializer_class = TaxDetailsSerializer

    @extend_schema(parameters=[id_parameter("affiliate", "Whose form (an affiliate's key reads its own).",
                                            required_for=OPERATORS)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="no such affiliate, or no form uploaded")})
    def get(self, request):
        details = TaxDetailsView._details(self, request)
        if not details.pk or not details.form_file:
            return Response({"detail": "No tax form uploaded."}, status=404)
        return FileResponse(details.form_file.open("rb"), as_attachment=True,
                            filename=f"tax-form-{details.affiliate_id}.{details.form_file.name.rsplit('.', 1)[-1]}")


class PayoutFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Payout.Status.choices)
    currency = django_filters.CharFilter()
    batch = IdFilter(field_name="batch_id")
    affiliate = IdFilter(field_name="affiliate_id")
    method_kind = django_filters.ChoiceFilter(choices=MethodKind.choices)

    class Meta:
        model = Payout
        fields = ["status", "currency", "batch", "affiliate", "method_kind"]


def _transition(call):
    try:
        return call(), None
    except PayoutTransitionError as exc:
        return None, Response({"detail": str(exc), "status": exc.status}, status=status.HTTP_400_BAD_REQUEST)


class PayoutViewSet(export.CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Payouts: an affiliate sees its own, operators all; operators mark PayPal/bank payouts paid or failed."""

    model = Payout
    csv_name = "payouts"
    csv_columns = (
        export.number("id"), export.number("batch"), export.number("affiliate"), export.text("currency"),
        export.money("amount"), export.money("fee"), export.money("net"), export.text("fee_paid_by"),
        export.text("status"), export.text("method_kind"),
        export.computed("reference", ("id",), lambda pk: Payout(pk=pk).reference),
        export.text("provider_reference"), export.text("provider_status"), export.text("failure_reason"),
        export.joined("commission_ids"), export.time("created_at"), export.time("sent_at"), export.time("paid_at"),
        export.time("failed_at"),
    )
    serializer_class = PayoutSerializer
    filterset_class = PayoutFilter
    roles = READERS
    action_roles = {"mark_paid": OPERATORS, "mark_failed": OPERATORS, "switch_method": OPERATORS}

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership)

    @extend_schema(request=MarkPaidSerializer, responses=PayoutSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        payout = self.get_object()
        body = MarkPaidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payout, error = _transition(lambda: payout_mark_paid(
            network=self.network, payout=payout, actor=request.user, reference=body.validated_data["reference"]))
        return error or Response(PayoutSerializer(payout).data)

    @extend_schema(request=MarkFailedSerializer, responses=PayoutSerializer)
    @action(detail=True, methods=["post"], url_path="mark-failed")
    def mark_failed(self, request, pk=None):
        payout = self.get_object()
        body = MarkFailedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payout, error = _transition(lambda: payout_mark_failed(
            network=self.network, payout=payout, actor=request.user, reason=body.validated_data["reason"]))
        return error or Response(PayoutSerializer(payout).data)

    @extend_schema(request=PayoutSwitchMethodSerializer, responses={200: PayoutSerializer, 400: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="switch-method")
    def switch_method(self, request, pk=None):
        """A payout on hold (its Stripe Connect method cannot be used) moves to the affiliate's PayPal or bank
        method: it joins the batch's CSV and waits for the operator's mark."""
        payout = self.get_object()
        body = PayoutSwitchMethodSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            payout, error = _transition(lambda: payout_switch_method(
                network=self.network, payout=payout, method=body.validated_data["method"], actor=request.user))
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return error or Response(PayoutSerializer(payout).data)


class PayoutBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Payout batches (operators): run one now, follow its progress, get its CSV files, upload results."""

    model = PayoutBatch
    serializer_class = PayoutBatchSerializer
    roles = OPERATORS
    filterset_fields = ["status", "trigger"]

    def scope_queryset(self, queryset):
        rows = Payout.objects.only("id", "network_id", "batch_id", "status", "currency", "amount")
        return queryset.prefetch_related(Prefetch("payouts", queryset=rows))

    @extend_schema(request=None, responses={201: PayoutBatchSerializer, 409: OpenApiTypes.OBJECT})
    def create(self, request):
        """Start a batch now and run it (in the worker; in-process in the embedded default)."""
        try:
            batch = payout_batch_start(network=self.network, actor=request.user)
        except BatchRunning as exc:
            return Response({"detail": str(exc), "batch": exc.running.pk if exc.running else None},
                            status=status.HTTP_409_CONFLICT)
        payout_batch_run_now(batch.pk, batch.network_id)
        batch.refresh_from_db()
        return Response(PayoutBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PayoutBatchSerializer)
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Resume a batch an outage interrupted (a no-op for a batch that is past paying)."""
        batch = payout_batch_run(batch_id=self.get_object().pk, network_id=self.network.pk, actor=request.user)
        return Response(PayoutBatchSerializer(batch).data)

    @extend_schema(
        parameters=[OpenApiParameter("method", OpenApiTypes.STR, enum=["paypal", "bank"], required=True),
                    OpenApiParameter("currency", OpenApiTypes.STR, description="PayPal: one currency per file")],
        responses={(200, "text/csv"): OpenApiTypes.STR,
                   (400, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="bad method"),
                   (404, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="another network's "
                                                                                            "batch")},
        description="The mass-pay file. Send `Accept: text/csv` (or `?format=csv`); errors answer JSON.",
    )
    @action(detail=True, methods=["get"], renderer_classes=[CSVRenderer, JSONRenderer])
    def csv(self, request, pk=None):
        batch = self.get_object()
        method = request.query_params.get("method", "")
        if method == MethodKind.PAYPAL:
            currency = request.query_params.get("currency", "").upper() or None
            body = masspay.paypal_csv(batch, currency)
        elif method == MethodKind.BANK:
            body = masspay.bank_csv(batch)
        else:
            return Response({"method": ["One of paypal, bank."]}, status=status.HTTP_400_BAD_REQUEST)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.pk}-{method}.csv"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        errors_as_json(self, request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": ResultsUploadSerializer}, responses=ResultsSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def results(self, request, pk=None):
        """The provider's result CSV: a reference column (`payout-<id>`) and a status per row; all rows or none."""
        batch = self.get_object()
        body = ResultsUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > 5 * 1024 * 1024:
            return Response({"file": ["At most 5 MB."]}, status=status.HTTP_400_BAD_REQUEST)
        results = masspay.results_import(network=self.network, batch=batch, raw=upload.read(), actor=request.user)
        batch.refresh_from_db()
        return Response({"results": results, "batch": PayoutBatchSerializer(batch).data})


class PayoutSettingsView(TenantGenericAPIView):
    """The network's payout schedule, thresholds and fee policy (schema: `payouts.policy`). Operators."""

    model = PayoutBatch  # unused: the view reads and writes the request's own network
    roles = OPERATORS
    serializer_class = PayoutSettingsSerializer

    def get(self, request):
        try:
            data = settings_normalize(self.network.payout_settings or {})
        except DjangoValidationError:  # stored settings no longer valid: show what applies (the defaults)
            data = settings_normalize({})
        return Response(data)

    def patch(self, request):
        data = services.payout_settings_update(network=self.network, changes=request.data, actor=request.user)
        return Response(data)


class StripeWebhookView(APIView):
    """Stripe's events (transfers, payouts, accounts). No API key: the Stripe-Signature header is verified."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Not limited per address: Stripe sends a batch's events from a few addresses, and each is signed.
    throttle_classes: list = []

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT,
                                                           400: OpenApiResponse(description="bad signature")})
    def post(self, request):
        payload = request.body
        try:
            event = stripe_connect.event_construct(payload, request.headers.get("Stripe-Signature", ""))
        except (ValueError, stripe.SignatureVerificationError):
            return Response({"detail": "Invalid payload or signature."}, status=status.HTTP_400_BAD_REQUEST)
        result = stripe_event_handle(event.to_dict())
        return Response({"received": True, "result": result})
