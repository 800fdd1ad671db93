"""Report parameters (validated into a ReportQuery) and the documented shape of a report."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.days import local_today
from core.money import is_currency

from .selectors import GROUPS

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 3


class ReportParamsSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUPS, default="day")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    program = serializers.IntegerField(required=False, min_value=1)
    affiliate = serializers.IntegerField(required=False, min_value=1)
    currency = serializers.CharField(required=False, max_length=3)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency code.")
        return value

    def validate(self, attrs):
        network = self.context["network"]
        today = local_today(network.timezone)
        date_to = attrs.get("date_to") or today
        date_from = attrs.get("date_from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["Must be on or before date_to."]})
        if (date_to - date_from).days >= MAX_DAYS:
            raise serializers.ValidationError({"date_from": [f"A report spans at most {MAX_DAYS} days."]})
        attrs["date_from"], attrs["date_to"] = date_from, date_to
        attrs["currency"] = attrs.get("currency") or network.default_currency
        return attrs


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}],
                       "description": "the day, sub ID or `total` (a string); a program's or affiliate's id"})
class RowKeyField(serializers.Field):
    def to_representation(self, value):
        return value


class ReportRowSerializer(serializers.Serializer):
    key = RowKeyField()
    label = serializers.CharField()
    clicks = serializers.IntegerField()
    unique_clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    sales = serializers.CharField(required=False, help_text="what the customers paid, net of refunds (conversions "
                                  "not rejected): advertisers and operators")
    revenue = serializers.CharField(required=False, help_text="what the advertiser pays (its cost): advertisers and "
                                    "operators")
    payout = serializers.CharField(required=False, help_text="affiliates and operators")
    profit = serializers.CharField(required=False, help_text="operators only")
    conversion_rate = serializers.CharField(allow_null=True, help_text="conversions that came through a click / "
                                            "unique clicks (coupon and renewal sales are not in it); null without "
                                            "clicks or with more such conversions than unique clicks")
    epc = serializers.CharField(allow_null=True, help_text="earnings per click (see the reports module)")


class ReportSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUPS)
    currency = serializers.CharField()
    timezone = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = ReportRowSerializer(many=True)
    totals = ReportRowSerializer()
    truncated = serializers.BooleanField()
