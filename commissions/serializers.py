"""API shapes for commissions, balances and ledger transactions; amounts are strings in minor units."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.filters import MAX_ID
from core.money import quantize
from network.models import Role

from .explain import commission_explanation, party_for
from .models import Commission, LedgerEntry, Transaction


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """A Decimal attribute shown as a string quantized to the object's currency ("10.00" EUR, "33" JPY)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return quantize(getattr(instance, self.source), instance.currency)

    def to_representation(self, value):
        return str(value)


class CommissionSerializer(serializers.ModelSerializer):
    """Affiliates never see revenue (the advertiser's price); advertisers never see the affiliate's payout when the
    network keeps a margin, only what they owe (`revenue`)."""

    amount = MoneyField()
    revenue = MoneyField()
    reversed_amount = MoneyField()
    reversed_revenue = MoneyField()
    remaining_amount = MoneyField()
    order_id = serializers.SerializerMethodField()

    class Meta:
        model = Commission
        fields = [
            "id", "status", "kind", "tier", "parent", "program", "advertiser", "affiliate", "conversion", "order_id",
            "currency", "amount", "revenue", "reversed_amount", "reversed_revenue", "remaining_amount", "clicks",
            "reason", "rule_snapshot", "hold_until", "approved_at", "rejected_at", "reversed_at", "paid_at",
            "created_at", "adjusts",
        ]
        read_only_fields = fields
        # Left out by to_representation for affiliates (revenue) or for advertisers under a margin (payout).
        role_dependent_fields = ["amount", "revenue", "reversed_amount", "reversed_revenue", "remaining_amount"]

    def get_order_id(self, obj) -> str:
        return obj.conversion.order_id if obj.conversion_id else ""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        membership = self.context.get("membership")
        role = membership.role if membership is not None else None
        if role == Role.AFFILIATE:
            for key in ("revenue", "reversed_revenue"):
                data.pop(key)
            data["rule_snapshot"] = {k: v for k, v in data["rule_snapshot"].items() if k != "revenue"}
            _hide_trued_down(data, "revenue")
        elif role == Role.ADVERTISER and instance.amount != instance.revenue:
            for key in ("amount", "reversed_amount", "remaining_amount"):
                data.pop(key)
            # The affiliate's rates would give the margin away as well.
            data["rule_snapshot"] = {k: v for k, v in data["rule_snapshot"].items()
                                     if k not in ("payout", "rate", "tiers")}
            _hide_trued_down(data, "amount")
        return data


class CommissionDetailSerializer(CommissionSerializer):
    """One commission with its `explanation` (commissions.explain), filtered for the reader's party."""

    explanation = serializers.SerializerMethodField()

    class Meta(CommissionSerializer.Meta):
        fields = [*CommissionSerializer.Meta.fields, "explanation"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_explanation(self, obj) -> dict:
        membership = self.context.get("membership")
        if membership is None:
            return {}
        return commission_explanation(obj, party=party_for(membership))


def _hide_trued_down(data: dict, key: str) -> None:
    """The tier true-up's reduction (`trued_down`) names both sides: each party sees only its own."""
    down = data["rule_snapshot"].get("trued_down")
    if isinstance(down, dict):
        data["rule_snapshot"] = data["rule_snapshot"] | {"trued_down": {k: v for k, v in down.items() if k != key}}


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class BulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1,
                                max_length=500)


class BulkResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["approved", "not_found", "error"])
    status = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class BulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


class BalanceRowSerializer(serializers.Serializer):
    currency = serializers.CharField()
    pending = serializers.CharField()
    approved = serializers.CharField()
    in_payment = serializers.CharField()
    paid = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    affiliate = serializers.IntegerField()
    balances = BalanceRowSerializer(many=True)


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = MoneyField()
    account = serializers.SerializerMethodField()
    side = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["id", "account", "side", "currency", "amount"]

    def get_account(self, obj) -> dict:
        a = obj.account
        return {"id": a.pk, "kind": a.kind, "advertiser": a.advertiser_id, "affiliate": a.affiliate_id}

    def get_side(self, obj) -> str:
        return "debit" if obj.amount >= 0 else "credit"


class TransactionSerializer(serializers.ModelSerializer):
    entries = LedgerEntrySerializer(many=True, read_only=True)

    class Meta:
        model = Transaction
        fields = ["id", "kind", "ref_type", "ref_id", "memo", "created_at", "entries"]
