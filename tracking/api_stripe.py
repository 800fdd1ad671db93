"""Stripe billing integrations API (the advertiser's CRUD and delivery log) and the per-integration webhook that
Stripe calls (no API key: the Stripe-Signature header is the authentication)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.money import quantize
from network.models import Role
from network.permissions import OPERATORS
from network.tenancy import TenantViewSet

from . import stripe_billing
from .models_stripe import StripeEvent, StripeIntegration

ADVERTISER_OR_OPERATOR = frozenset({Role.ADVERTISER, *OPERATORS})


def webhook_url(request, integration: StripeIntegration) -> str:
    """The absolute URL the merchant pastes into their Stripe dashboard (Developers -> Webhooks)."""
    return request.build_absolute_uri(reverse("stripe-billing-webhook", kwargs={"token": integration.token}))


class StripeIntegrationSerializer(serializers.ModelSerializer):
    webhook_url = serializers.SerializerMethodField(
        help_text="Paste it into Stripe (Developers -> Webhooks -> Add endpoint); it names this integration.")
    signing_secret_hint = serializers.CharField(
        read_only=True, help_text="The secret's last characters only; empty until a secret is set.")

    class Meta:
        model = StripeIntegration
        fields = ["id", "program", "advertiser", "webhook_url", "signing_secret_hint", "is_active", "created_at",
                  "secret_rotated_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_webhook_url(self, obj):
        return webhook_url(self.context["request"], obj)


class StripeIntegrationCreateSerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="One of your programs' id.")
    signing_secret = serializers.CharField(max_length=200, write_only=True, required=False, allow_blank=True,
                                           help_text=(
        "The endpoint's signing secret (whsec_...) from the Stripe dashboard. Never shown again. May come later "
        "(rotate-secret): Stripe shows it once the endpoint with this webhook_url exists; until then every event "
        "is refused."))


class StripeSecretSerializer(serializers.Serializer):
    signing_secret = serializers.CharField(max_length=200, write_only=True, help_text="The new whsec_... secret.")


class StripeEventSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()

    class Meta:
        model = StripeEvent
        fields = ["id", "event_id", "type", "result", "error", "object_id", "customer_id", "conversion", "amount",
                  "currency", "livemode", "received_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_amount(self, obj):
        return None if obj.amount is None or not obj.currency else str(quantize(obj.amount, obj.currency))


def _field_errors(exc: DjangoValidationError) -> ApiValidationError:
    return ApiValidationError(exc.message_dict if hasattr(exc, "message_dict") else {"detail": exc.messages})


class StripeIntegrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """An advertiser's Stripe accounts: each payment, renewal and refund becomes a conversion of its program."""

    model = StripeIntegration
    serializer_class = StripeIntegrationSerializer
    roles = ADVERTISER_OR_OPERATOR
    action_roles = {"create": frozenset({Role.ADVERTISER}), "rotate_secret": frozenset({Role.ADVERTISER}),
                    "disable": frozenset({Role.ADVERTISER}), "enable": frozenset({Role.ADVERTISER}),
                    "destroy": frozenset({Role.ADVERTISER})}

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership)

    @extend_schema(request=StripeIntegrationCreateSerializer, responses={201: StripeIntegrationSerializer},
                   description="Connect a Stripe account: paste the answer's webhook_url into Stripe as an endpoint "
                   "for checkout.session.completed, invoice.paid, charge.refunded and customer.subscription.deleted, "
                   "and send its signing secret here. The secret is never shown again.")
    def create(self, request):
        data = StripeIntegrationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        advertiser = self.membership.party
        if advertiser is None:
            raise PermissionDenied("This key has no advertiser profile.")
        try:
            integration = stripe_billing.stripe_integration_create(
                network=self.network, advertiser=advertiser, program_id=data.validated_data["program"],
                signing_secret=data.validated_data.get("signing_secret", ""), actor=request.user)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(self._out(integration), status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        stripe_billing.stripe_integration_delete(network=self.network, integration=self.get_object(),
                                                 actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=StripeSecretSerializer, responses=StripeIntegrationSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Set the signing secret (first time, or after rolling it in Stripe); the old one stops verifying at once."""
        integration = self.get_object()
        data = StripeSecretSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            stripe_billing.stripe_integration_rotate_secret(
                network=self.network, integration=integration, signing_secret=data.validated_data["signing_secret"],
                actor=request.user)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(self._out(integration))

    @extend_schema(request=None, responses=StripeIntegrationSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        """Stop taking events: the webhook URL answers 404 and records nothing."""
        return self._set_active(False)

    @extend_schema(request=None, responses=StripeIntegrationSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return self._set_active(True)

    @extend_schema(request=None, responses=StripeEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """Every verified event Stripe delivered, newest first: its id, type, result and error."""
        integration = self.get_object()
        events = StripeEvent.objects.for_network(self.network).filter(integration=integration)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(StripeEventSerializer(page, many=True).data)

    def _set_active(self, active: bool) -> Response:
        integration = stripe_billing.stripe_integration_set_active(
            network=self.network, integration=self.get_object(), active=active, actor=self.request.user)
        return Response(self._out(integration))

    def _out(self, integration: StripeIntegration) -> dict:
        return StripeIntegrationSerializer(integration, context={"request": self.request}).data


_received = inline_serializer("StripeEventReceived", {
    "received": serializers.BooleanField(), "duplicate": serializers.BooleanField(),
    "result": serializers.CharField(), "error": serializers.CharField(),
    "conversion": serializers.IntegerField(allow_null=True)})


class StripeBillingWebhookView(APIView):
    """Stripe's billing events for one integration (the token in the URL). Verified with the integration's signing
    secret: a bad signature or a timestamp older than 5 minutes answers 400 and records nothing."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Not limited per address: Stripe sends from a few addresses, and each event is signed.
    throttle_classes: list = []

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: _received, 400: OpenApiResponse(description="Invalid payload or signature"),
                   404: OpenApiResponse(description="Unknown or disabled integration")},
        description="The URL to paste into Stripe. Handles checkout.session.completed, invoice.paid, "
        "charge.refunded and customer.subscription.deleted; other types answer 200 and are recorded as ignored. "
        "The same event id twice has one effect.",
    )
    def post(self, request, token: str):
        integration = stripe_billing.dangerously_stripe_integration_for_token(token)
        if integration is None:
            return Response({"detail": "Unknown or disabled integration."}, status=status.HTTP_404_NOT_FOUND)
        try:
            event = stripe_billing.stripe_event_verify(integration=integration, payload=request.body,
                                                       signature=request.headers.get("Stripe-Signature", ""))
        except stripe_billing.BadEvent:
            return Response({"detail": "Invalid payload or signature."}, status=status.HTTP_400_BAD_REQUEST)
        row, new = stripe_billing.stripe_event_handle(integration=integration, event=event)
        return Response({"received": True, "duplicate": not new, "result": row.result, "error": row.error,
                         "conversion": row.conversion_id})
