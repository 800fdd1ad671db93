"""Request and response shapes of conversions, webhook endpoints, deliveries and postback settings."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.filters import MAX_ID
from core.money import AmountTooLarge, parse_amount, quantize

from .attribution import conversion_warnings
from .items import item_errors_of
from .models import Conversion, RefundStatus, refund_status
from .models_outbound import Delivery, DeliveryAttempt, WebhookEndpoint
from .outbound import DEFAULT_POSTBACK_EVENTS, EVENTS, POSTBACK_EVENTS, POSTBACK_MACROS


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.Field):
    """A decimal amount sent as a string ("49.90") or an integer; floats are refused (they lose cents)."""

    default_error_messages = {"invalid": 'Not a decimal amount ({reason}). Send amounts as strings, e.g. "49.90".',
                              "too_large": "The amount is {reason}."}

    def to_internal_value(self, data):
        try:
            return parse_amount(data)
        except AmountTooLarge as exc:
            self.fail("too_large", reason=str(exc).rstrip(".").lower())
        except ValueError as exc:
            self.fail("invalid", reason=str(exc).rstrip("."))

    def to_representation(self, value):
        return str(value)


class ConversionCreateSerializer(serializers.Serializer):
    order_id = serializers.CharField(max_length=128)
    amount = AmountField(required=False, help_text='Order amount as a string ("49.90"); optional for leads (0).')
    currency = serializers.CharField(max_length=3, help_text="ISO 4217 code; must be the program's currency.")
    event = serializers.ChoiceField(choices=Conversion.Event.choices, default=Conversion.Event.SALE)
    click_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    coupon = serializers.CharField(required=False, allow_blank=True, max_length=64)
    customer_id = serializers.CharField(required=False, allow_blank=True, max_length=128)
    customer_email = serializers.EmailField(required=False, allow_blank=True,
                                            help_text="Only a keyed hash is stored (self-referral checks).")
    customer_ip = serializers.IPAddressField(required=False, allow_blank=True,
                                             help_text="Only a keyed hash is stored (self-referral checks).")
    program = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                       help_text="Your program, for conversions no one referred.")
    items = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=500,
        help_text='The order\'s lines: [{"sku", "category", "amount" (the line\'s total, a string), "quantity"}] '
        '(`price` and `qty` are read too). Programs with product-level rates pay each line by the rule matching '
        'its sku or category.')

    def validate_items(self, items):
        errors = {}
        for index, item in enumerate(items):
            item_errors = item_errors_of(item)
            if item_errors:
                errors[str(index)] = item_errors
        if errors:
            raise serializers.ValidationError(errors)
        return items

    def validate(self, attrs):
        if "amount" not in attrs:
            if attrs["event"] == Conversion.Event.SALE:
                raise serializers.ValidationError({"amount": ["This field is required for a sale."]})
            attrs["amount"] = parse_amount("0")
        return attrs


class RefundItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=128)
    amount = AmountField(help_text="The part of that item's amount refunded.")


class RefundSerializer(serializers.Serializer):
    amount = AmountField(required=False, help_text="Part of the order to refund; the whole remainder when absent.")
    items = RefundItemSerializer(
        many=True, required=False, max_length=500,
        help_text="A refund by item instead of an amount: the commission lines of those items are reversed (in "
        "proportion to each item's amount refunded); the refund's amount is their sum.")


class ConversionAdjustSerializer(serializers.Serializer):
    amount = AmountField(required=False, help_text="The order's corrected amount (with items and no amount: the "
                         "items' total). More than what was already refunded, at least the items' total.")
    items = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=500,
        help_text='The order\'s corrected lines, as on the postback: [{"sku", "category", "amount", "quantity"}]. '
        'Commissions priced by item lines keep the lines of unchanged items and price the others with the rules '
        'in force at the sale; the difference is posted and listed in the commission\'s explanation. Items '
        'refunded by name stay refunded (moved to the new lines of the same sku).')

    def validate_items(self, items):
        return ConversionCreateSerializer().validate_items(items)


def _money(conversion: Conversion, value) -> str:
    return str(quantize(value, conversion.currency))


_DATETIME = serializers.DateTimeField()


def conversion_representation(obj: Conversion, fields: list[str]) -> dict:
    """The JSON of a conversion without DRF's per-request field building (the postback is a hot path)."""
    values = {}
    for name in fields:
        if name in ("amount", "refunded_amount"):
            values[name] = _money(obj, getattr(obj, name))
        elif name in ("program", "partnership", "affiliate", "link"):
            values[name] = getattr(obj, f"{name}_id")
        elif name == "coupon":
            # The affiliate's code when it is one, else the code as sent (kept even when it is nobody's).
            values[name] = obj.coupon.code if obj.coupon_id else (getattr(obj, "coupon_code", "") or None)
        elif name == "refund_status":
            values[name] = refund_status(obj.amount, obj.refunded_amount)
        elif name in ("created_at", "clicked_at"):
            value = getattr(obj, name)
            values[name] = _DATETIME.to_representation(value) if value else None
        else:
            values[name] = getattr(obj, name)
    return values


class ConversionSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()
    refunded_amount = serializers.SerializerMethodField()
    coupon = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True,
        help_text="The coupon sent with the order: an affiliate's code, or any other code kept as sent.")
    refund_status = serializers.ChoiceField(
        choices=RefundStatus.choices, read_only=True,
        help_text="none, partial (part of the order refunded) or full (the whole order refunded).")

    class Meta:
        model = Conversion
        fields = [
            "id", "order_id", "event", "amount", "refunded_amount", "refund_status", "currency", "status",
            "attribution", "attribution_pending", "program", "partnership", "affiliate", "link", "coupon", "click_id",
            "first_click_id", "clicked_at", "sub1", "sub2", "sub3", "sub4", "sub5", "country", "customer_id", "items",
            "fraud_signals", "signal_details", "is_test", "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"is_test": {"help_text": "A test sale sent from the Integration page: counted in no total, "
                                                 "report or chart."}}
        # What AffiliateConversionSerializer leaves out: the referring affiliate sees a subset of this shape.
        role_dependent_fields = ["attribution_pending", "partnership", "affiliate", "customer_id", "items",
                                 "fraud_signals", "signal_details", "is_test"]

    def to_representation(self, instance):
        return conversion_representation(instance, self.Meta.fields)

    @extend_schema_field(OpenApiTypes.STR)
    def get_amount(self, obj):
        return _money(obj, obj.amount)

    @extend_schema_field(OpenApiTypes.STR)
    def get_refunded_amount(self, obj):
        return _money(obj, obj.refunded_amount)


class AffiliateConversionSerializer(ConversionSerializer):
    """What the referring affiliate sees: no customer data, no fraud internals."""

    class Meta(ConversionSerializer.Meta):
        fields = [
            "id", "order_id", "event", "amount", "refunded_amount", "refund_status", "currency", "status",
            "attribution", "program", "link", "coupon", "click_id", "first_click_id", "clicked_at", "sub1", "sub2",
            "sub3", "sub4", "sub5", "country", "created_at",
        ]
        read_only_fields = fields


class ConversionWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="What the warning is about: `unknown_coupon` (not an affiliate's code).")
    field = serializers.CharField(help_text="The request field it concerns.")
    detail = serializers.CharField()


class ConversionRecordedSerializer(ConversionSerializer):
    """The answer to a postback: the conversion, and what the merchant should know (the sale is recorded anyway).
    The schema of `conversion_recorded_representation`, which the views answer with."""

    warnings = ConversionWarningSerializer(
        many=True, read_only=True,
        help_text="E.g. an unknown coupon on a sale nothing else attributed; empty when all is well.")

    class Meta(ConversionSerializer.Meta):
        fields = [*ConversionSerializer.Meta.fields, "warnings"]
        read_only_fields = fields

    def to_representation(self, instance):
        return conversion_recorded_representation(instance, conversion_warnings(instance))


def conversion_recorded_representation(conversion, warnings: list[dict]) -> dict:
    """The postback's answer (both paths): the conversion's JSON and its warnings."""
    return conversion_representation(conversion, ConversionSerializer.Meta.fields) | {"warnings": warnings}


WEBHOOK_EVENT_CHOICES = ["*", *EVENTS]  # "*": every event, today's and those added later


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_CHOICES), min_length=1, max_length=50,
        help_text=f"Event types (GET /api/v1/webhook-events), or [\"*\"] for all: {', '.join(EVENTS)}.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "is_active", "advertiser", "created_at"]
        read_only_fields = ["id", "advertiser", "created_at"]


class WebhookEventTypeSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The event name, in the body's `type` and `event`.")
    description = serializers.CharField()
    audience = serializers.ChoiceField(
        choices=["advertiser", "operators"],
        help_text="`operators`: sent to the network operators' endpoints only; `advertiser`: also to the endpoints "
                  "of the advertiser concerned.")
    example = serializers.JSONField(help_text="A body a delivery of this type carries (values made up).")


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "status_code", "latency_ms", "response_excerpt", "error", "succeeded", "retry_in_seconds",
                  "created_at"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "kind", "event", "endpoint", "advertiser", "affiliate", "url", "method", "status", "attempts",
                  "last_status_code", "last_latency_ms", "last_response_excerpt", "last_error", "next_attempt_at",
                  "created_at", "completed_at"]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "body", "attempt_log"]
        read_only_fields = fields


class PostbackSerializer(serializers.Serializer):
    postback_url = serializers.CharField(max_length=1000, allow_blank=True,
                                         help_text="URL template, e.g. https://tracker.example/pb?cid={click_id}")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=POSTBACK_EVENTS), required=False, max_length=len(POSTBACK_EVENTS),
        help_text="Events that fire the postback; empty or absent on the first save: the conversion (commission) "
        "events. Absent later: unchanged.")
    macros = serializers.ListField(child=serializers.CharField(), read_only=True, default=list(POSTBACK_MACROS))


def postback_representation(affiliate) -> dict:
    return {"postback_url": affiliate.postback_url,
            "events": list(affiliate.postback_events or DEFAULT_POSTBACK_EVENTS)}
