"""API shapes for payout methods, tax details, payouts, batches and payout settings."""

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commissions.serializers import MoneyField

from .models import MethodKind, Payout, PayoutBatch, PayoutMethod, TaxDetails

COUNTRY_MESSAGE = "A two-letter ISO 3166 country code."
MAX_TAX_FORM_BYTES = 5 * 1024 * 1024
TAX_FORM_TYPES = {"pdf", "png", "jpg", "jpeg"}


class PayoutMethodSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=MethodKind.choices)  # stripe_connect: through stripe-onboarding

    class Meta:
        model = PayoutMethod
        fields = ["id", "affiliate", "kind", "is_default", "label", "stripe_account_id", "stripe_onboarded",
                  "paypal_email", "bank_holder", "bank_account", "bank_bic", "bank_country", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "affiliate", "stripe_account_id", "stripe_onboarded", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["kind"] = instance.kind
        return data


class PayoutMethodUpdateSerializer(PayoutMethodSerializer):
    class Meta(PayoutMethodSerializer.Meta):
        read_only_fields = [*PayoutMethodSerializer.Meta.read_only_fields, "kind"]


class StripeOnboardingSerializer(serializers.Serializer):
    url = serializers.URLField()
    method = PayoutMethodSerializer()


class TaxDetailsSerializer(serializers.ModelSerializer):
    form_file = serializers.FileField(write_only=True, required=False)
    has_form = serializers.SerializerMethodField()

    class Meta:
        model = TaxDetails
        fields = ["affiliate", "legal_name", "country", "tax_id", "form_type", "form_file", "has_form", "updated_at"]
        read_only_fields = ["affiliate", "updated_at"]

    def get_has_form(self, obj) -> bool:
        return bool(obj.form_file)

    def validate_country(self, value):
        if value and not (len(value) == 2 and value.isalpha()):
            raise serializers.ValidationError("A two-letter ISO 3166 country code.")
        return value.upper()

    def validate_form_file(self, value):
        suffix = value.name.rsplit(".", 1)[-1].lower() if "." in value.name else ""
        if suffix not in TAX_FORM_TYPES:
            raise serializers.ValidationError("Upload a PDF, PNG or JPEG file.")
        if value.size > MAX_TAX_FORM_BYTES:
            raise serializers.ValidationError("At most 5 MB.")
        head = value.read(8)
        value.seek(0)
        if suffix == "pdf" and not head.startswith(b"%PDF"):
            raise serializers.ValidationError("This is not a PDF file.")
        return value


class PayoutSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    fee = MoneyField()
    net = MoneyField()
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = Payout
        fields = ["id", "batch", "affiliate", "currency", "amount", "fee", "net", "fee_paid_by", "status",
                  "method_kind", "method_snapshot", "reference", "provider_reference", "provider_status",
                  "failure_reason", "commission_ids", "created_at", "sent_at", "paid_at", "failed_at"]
        read_only_fields = fields


class PayoutBatchSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()

    class Meta:
        model = PayoutBatch
        fields = ["id", "status", "trigger", "period_key", "total", "done", "progress", "counts", "totals",
                  "skipped", "last_error", "created_by", "created_at", "updated_at", "completed_at"]
        read_only_fields = fields

    def get_progress(self, obj) -> float:
        return round(obj.done / obj.total, 4) if obj.total else 1.0

    def _payouts(self, obj):
        cache = getattr(obj, "_payout_rows", None)
        if cache is None:
            cache = obj._payout_rows = [(p.status, p.currency, p.amount) for p in obj.payouts.all()]
        return cache

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_counts(self, obj) -> dict:
        counts = dict.fromkeys(Payout.Status.values, 0)
        for status, _, _ in self._payouts(obj):
            counts[status] += 1
        counts["skipped"] = len(obj.skipped or [])
        return counts

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_totals(self, obj) -> dict:
        from core.money import quantize

        sums: dict = {}
        for _, currency, amount in self._payouts(obj):
            sums[currency] = sums.get(currency, 0) + amount
        return {cur: str(quantize(total, cur)) for cur, total in sorted(sums.items())}


class MarkFailedSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class MarkPaidSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class ResultsUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class ResultRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    payout = serializers.IntegerField()
    status = serializers.CharField()


class ResultsSerializer(serializers.Serializer):
    results = ResultRowSerializer(many=True)
    batch = PayoutBatchSerializer()


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonObjectField(serializers.JSONField):
    pass


class PayoutSettingsSerializer(serializers.Serializer):
    """See `payouts.policy` for the schema."""

    schedule = JsonObjectField(required=False)
    thresholds = JsonObjectField(required=False)
    fee = JsonObjectField(required=False)


class PayoutSwitchMethodSerializer(serializers.Serializer):
    method = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1,
        help_text="A PayPal or bank method of the payout's affiliate (default: its default one, else its oldest)")


class StripeOnboardingRequestSerializer(serializers.Serializer):
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="",
                                    validators=[RegexValidator(r"^[A-Za-z]{2}$", COUNTRY_MESSAGE)],
                                    help_text="ISO 3166 code of the affiliate's country (for a new account; "
                                              "default: the tax details' country)")


class StripeAccountSerializer(serializers.Serializer):
    account = serializers.CharField()
    country = serializers.CharField()
    details_submitted = serializers.BooleanField()
    payouts_enabled = serializers.BooleanField()
    onboarded = serializers.BooleanField()
    transfers = serializers.CharField(help_text="the transfers capability: active, inactive or pending")
    currently_due = serializers.ListField(child=serializers.CharField())
    disabled_reason = serializers.CharField(allow_blank=True)
