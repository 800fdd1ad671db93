"""API shapes for programs, rules, partnerships, links, creatives and coupons.

Rates in responses are strings: a fixed payout or revenue is quantized to the program currency's minor
units ("5.00" EUR, "500" JPY); a percent is a plain number with two decimals ("10.00" means 10 %).
"""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils.html import escape
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import AmountTooLarge, is_currency, parse_amount, quantize
from network.models import Role

from . import caps, rule_checks, selectors, targeting
from .deeplinks import is_allowed_destination, normalize_domain
from .models import (
    VELOCITY_MAX_WINDOW_MINUTES,
    CommissionRule,
    CouponCode,
    Creative,
    Partnership,
    Program,
    TrackingLink,
)

PERCENT_PLACES = rule_checks.PERCENT_PLACES
MAX_TIERS = rule_checks.MAX_TIERS
MAX_ALLOWED_DOMAINS = 50
MAX_BANNER_BYTES = 5 * 1024 * 1024
BANNER_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
COUPON_CODE = re.compile(r"^[A-Za-z0-9_-]{3,64}$")
COUPON_CODE_MESSAGE = "3 to 64 letters, digits, '-' or '_'."
MAX_ID = 2**63 - 1
MAX_AMOUNT = rule_checks.MAX_AMOUNT


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802 (reads like a field class)
    """A primary key in a body: bounded, so a huge number is a 400, never a database overflow."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def format_rate(value, kind: str, currency: str) -> str | None:
    if value is None or value == "":
        return None
    value = Decimal(str(value))
    if kind == CommissionRule.Kind.PERCENT:
        return str(value.quantize(PERCENT_PLACES))
    return str(quantize(value, currency))


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.Field):
    """A decimal given as a string or integer (never a float, which cannot hold cents exactly)."""

    default_error_messages = {"invalid": rule_checks.AMOUNT_INVALID, "too_large": rule_checks.AMOUNT_TOO_LARGE}

    def to_internal_value(self, data):
        try:
            amount = parse_amount(data)
        except AmountTooLarge:
            self.fail("too_large")
        except ValueError:
            self.fail("invalid")
        if abs(amount) >= MAX_AMOUNT:
            self.fail("too_large")
        return amount

    def to_representation(self, value):
        return str(value)


def _http_url(value: str, field: str) -> str:
    if not is_allowed_destination(value, landing_url=value, allowed_domains=[]):
        raise serializers.ValidationError(f"{field} must be an http(s) URL with a host and no credentials.")
    return value


# --- rules ------------------------------------------------------------------------------------------
class TierSerializer(serializers.Serializer):
    min_conversions = serializers.IntegerField(min_value=0, max_value=10**9, required=False,
                                               help_text="Threshold of a rule whose tier_basis is conversions.")
    min_amount = AmountField(required=False, help_text="Threshold of a rule whose tier_basis is amount: sales in "
                             "the period, in the program currency.")
    payout = AmountField()


MATCH_SCHEMA = {
    "type": "object", "nullable": True, "maxProperties": 1,
    "properties": {"sku": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "category": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    "description": "A product-level rate: the conversion's items whose sku (or category) is listed are paid by this "
    "rule; the others by the program's rule as usual. Absent, null or {}: the rule pays whole orders.",
}


@extend_schema_field(MATCH_SCHEMA)
class MatchField(serializers.JSONField):
    """A rule's `match` (checked by `rule_checks.match_clean` in the serializer's validate)."""


class RuleInputSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=CommissionRule.Event.choices, default=CommissionRule.Event.SALE)
    kind = serializers.ChoiceField(choices=CommissionRule.Kind.choices)
    payout = AmountField()
    revenue = AmountField(required=False, allow_null=True)
    tiers = TierSerializer(many=True, required=False)
    tier_period = serializers.ChoiceField(choices=CommissionRule.TierPeriod.choices, required=False)
    tier_basis = serializers.ChoiceField(
        choices=CommissionRule.TierBasis.choices, required=False,
        help_text="What reaches a tier: the affiliate's conversions in the period (tiers' min_conversions) or its "
        "sales amount (tiers' min_amount); rejected and refunded ones do not count.")
    recurring_months = serializers.IntegerField(
        min_value=0, max_value=1200, required=False, allow_null=True,
        help_text="Subscription renewals: 0 or absent = first payment only, N = renewals within N months, "
        "null = forever.",
    )
    affiliate = IdField(required=False, allow_null=True, help_text="Only for this affiliate.")
    group = IdField(required=False, allow_null=True,
                    help_text="Only for this partner group (its id): the program's default for the group's affiliates.")
    match = MatchField(required=False, allow_null=True)

    def validate(self, attrs):
        # The checks services.program_create/update run too (programs.rule_checks), as this rule's field errors.
        try:
            return rule_checks.rule_clean(attrs, network=self.context["network"], shaped=True)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc


def validate_rules_for_currency(rules: list[dict], currency: str) -> None:
    """Fixed amounts must fit the currency (no fractions of a cent); one rule per event and target."""
    try:
        rule_checks.rules_check_for_currency(rules, currency)
    except rule_checks.RuleErrors as exc:
        raise serializers.ValidationError({"rules": exc.detail}) from exc


class RuleSerializer(serializers.ModelSerializer):
    payout = serializers.SerializerMethodField()
    revenue = serializers.SerializerMethodField()
    tiers = serializers.SerializerMethodField()

    class Meta:
        model = CommissionRule
        fields = ["id", "event", "kind", "payout", "revenue", "tiers", "tier_period", "tier_basis", "recurring_months",
                  "affiliate", "group", "group_name", "match", "created_at"]

    group_name = serializers.SerializerMethodField()
    match = MatchField(read_only=True)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_group_name(self, rule):
        return rule.group.name if rule.group_id else None

    def _currency(self, rule):
        return rule.program.currency

    @extend_schema_field(OpenApiTypes.STR)
    def get_payout(self, rule):
        return format_rate(rule.payout, rule.kind, self._currency(rule))

    @extend_schema_field({"type": "string", "nullable": True})
    def get_revenue(self, rule):
        if self.context.get("membership") is not None and self.context["membership"].role == Role.AFFILIATE:
            return None  # what the advertiser pays the network is not the affiliate's business
        return format_rate(rule.revenue, rule.kind, self._currency(rule))

    @extend_schema_field(TierSerializer(many=True))
    def get_tiers(self, rule):
        currency = self._currency(rule)
        return [({"min_amount": str(quantize(Decimal(t["min_amount"]), currency))} if "min_amount" in t
                 else {"min_conversions": t["min_conversions"]})
                | {"payout": format_rate(t["payout"], rule.kind, currency)} for t in rule.tiers or []]


# --- caps -------------------------------------------------------------------------------------------
class CapsSerializer(serializers.Serializer):
    """Caps and budget (`caps`, on programs and partnerships): null numbers mean no limit for that measure."""

    conversions_day = serializers.IntegerField(min_value=0, max_value=caps.MAX_CONVERSIONS, allow_null=True,
                                               required=False, help_text="Conversions per day (network time zone).")
    conversions_month = serializers.IntegerField(min_value=0, max_value=caps.MAX_CONVERSIONS, allow_null=True,
                                                 required=False, help_text="Conversions per calendar month.")
    payout_month = AmountField(allow_null=True, required=False,
                               help_text="Payout budget per calendar month in the program's currency, e.g. \"500.00\".")
    action = serializers.ChoiceField(choices=caps.ACTIONS, required=False, default="hold",
                                     help_text="Past a cap: hold (commission held for review), reject (no "
                                     "commission) or pause (the program's clicks go to its fallback URL).")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown cap."] for name in unknown})
        return super().to_internal_value(data)

    def validate_payout_month(self, value):
        if value is not None and value < 0:
            raise serializers.ValidationError("Must not be negative.")
        return value


def caps_checked(value: dict | None, currency: str) -> dict | None:
    """Validated caps in their stored shape (the budget checked against the currency's minor units)."""
    if value is None:
        return None
    budget = value.get("payout_month")
    if budget is not None and budget != quantize(budget, currency):
        raise serializers.ValidationError({"caps": {"payout_month": [
            f"Has more decimal places than {currency} allows."]}})
    return caps.caps_value(currency=currency, **value)


@extend_schema_field({"type": "object", "nullable": True, "properties": {
    "conversions_day": {"type": "integer", "nullable": True},
    "conversions_month": {"type": "integer", "nullable": True},
    "payout_month": {"type": "string", "nullable": True, "example": "500.00"},
    "action": {"type": "string", "enum": list(caps.ACTIONS)}}})
class CapsField(serializers.JSONField):
    """The stored caps as they are."""


_CAP_MEASURE = {"type": "object", "nullable": True, "properties": {
    "limit": {"type": "string"}, "used": {"type": "string"}, "remaining": {"type": "string"},
    "resets_at": {"type": "string", "format": "date-time"}}}
CAPS_STATUS_SCHEMA = {
    "type": "object", "nullable": True,
    "description": "The caps that apply and what is left in the current periods (null: no cap applies).",
    "properties": {"scope": {"type": "string", "enum": [caps.PROGRAM, caps.PARTNERSHIP]},
                   "action": {"type": "string"}, "timezone": {"type": "string"},
                   "paused_until": {"type": "string", "format": "date-time", "nullable": True},
                   "conversions_day": _CAP_MEASURE, "conversions_month": _CAP_MEASURE, "payout_month": _CAP_MEASURE},
}


def caps_status_data(program: Program, partnership: Partnership | None = None) -> dict | None:
    status = caps.caps_status(program=program, partnership=partnership)
    if status is None:
        return None
    data = dict(status)
    data["paused_until"] = status["paused_until"].isoformat() if status["paused_until"] else None
    for measure in caps.MEASURES:
        if status[measure] is not None:
            data[measure] = {key: value.isoformat() if key == "resets_at" else str(value)
                             for key, value in status[measure].items()}
    return data


class PartnershipCapsSerializer(serializers.Serializer):
    caps = CapsSerializer(allow_null=True, required=False,
                          help_text="The partnership's own caps (null: the program's apply; absent: unchanged).")


# --- programs ---------------------------------------------------------------------------------------
class TargetingSerializer(serializers.Serializer):
    """Where a program's clicks may come from; an empty (or absent) list restricts nothing. Written as a whole."""

    countries_allowed = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=targeting.MAX_COUNTRIES,
        help_text="ISO 3166-1 alpha-2 codes: only visitors from these countries are on target (empty: any country; "
        "a visitor whose country is unknown is outside a non-empty list).")
    countries_blocked = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=targeting.MAX_COUNTRIES,
        help_text="ISO 3166-1 alpha-2 codes: visitors from these countries are outside the targeting.")
    devices = serializers.ListField(
        child=serializers.ChoiceField(choices=targeting.DEVICES), required=False,
        help_text="Device types on target (empty: every type).")

    def validate(self, attrs):
        try:
            return targeting.targeting_clean(attrs)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None


class ProgramWriteSerializer(serializers.Serializer):
    advertiser = IdField(required=False, help_text="Operators only: whose program it is.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    landing_url = serializers.CharField(max_length=2000)
    currency = serializers.CharField(required=False, help_text="ISO 4217; the network's currency when absent.")
    allowed_domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False,
                                            max_length=MAX_ALLOWED_DOMAINS)
    status = serializers.ChoiceField(choices=Program.Status.choices, required=False)
    visibility = serializers.ChoiceField(choices=Program.Visibility.choices, required=False)
    approval = serializers.ChoiceField(choices=Program.Approval.choices, required=False)
    attribution_window_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    attribution_model = serializers.ChoiceField(
        choices=Program.AttributionModel.choices, required=False,
        help_text="Which of a visitor's clicks within the window earns a conversion: last_click (the click id the "
        "order reports; the default) or first_click (the visitor's first click on the program within the window, "
        "even when the order reports a later one).")
    hold_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    fallback_url = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    second_tier_percent = AmountField(required=False, allow_null=True)
    fraud_policy = serializers.ChoiceField(choices=Program.FraudPolicy.choices, required=False)
    velocity_max_clicks = serializers.IntegerField(
        min_value=0, max_value=100_000, required=False,
        help_text="IP velocity: more clicks than this from one visitor within the window are flagged (0: off).")
    velocity_window_minutes = serializers.IntegerField(
        min_value=1, max_value=VELOCITY_MAX_WINDOW_MINUTES, required=False, help_text="IP velocity window.")
    terms = serializers.CharField(required=False, allow_blank=True)
    targeting = TargetingSerializer(
        required=False, help_text="Countries and device types the program's clicks may come from; a click outside is "
        "sent to the fallback URL (or the landing page) without a click id and its conversions earn nothing.")
    caps = CapsSerializer(required=False, allow_null=True,
                          help_text="Conversion caps per day and month, payout budget per month (null: none).")
    rules = RuleInputSerializer(many=True, required=True, allow_empty=False)

    def validate_landing_url(self, value):
        return _http_url(value, "landing_url")

    def validate_fallback_url(self, value):
        return _http_url(value, "fallback_url") if value else value

    def validate_currency(self, value):
        if not is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency code.")
        return value

    def validate_allowed_domains(self, value):
        normalized, bad = [], []
        for domain in value:
            canonical = normalize_domain(domain)
            if canonical is None:
                bad.append(f"'{domain}' is not a valid domain (use host names such as shop.test or *.shop.test).")
            elif canonical not in normalized:
                normalized.append(canonical)
        if bad:
            raise serializers.ValidationError(bad)
        return normalized

    def validate_second_tier_percent(self, value):
        if value is not None and not (0 <= value <= 100 and value == value.quantize(PERCENT_PLACES)):
            raise serializers.ValidationError("A percent between 0 and 100 with at most two decimal places.")
        return value

    def validate(self, attrs):
        program = self.instance
        currency = attrs.get("currency") or (program.currency if program else self.context["network"].default_currency)
        if attrs.get("rules"):
            validate_rules_for_currency(attrs["rules"], currency)
        if "caps" in attrs:
            attrs["caps"] = caps_checked(attrs["caps"], currency)
        return attrs


class AdvertiserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartnershipRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class ProgramSerializer(serializers.ModelSerializer):
    advertiser = AdvertiserRefSerializer(read_only=True)
    second_tier_percent = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()
    partnership = serializers.SerializerMethodField()
    targeting = serializers.SerializerMethodField()
    caps = CapsField(read_only=True)
    caps_status = serializers.SerializerMethodField()

    class Meta:
        model = Program
        fields = ["id", "advertiser", "name", "description", "landing_url", "currency", "allowed_domains", "status",
                  "visibility", "approval", "attribution_window_days", "attribution_model", "hold_days", "fallback_url",
                  "second_tier_percent", "fraud_policy", "velocity_max_clicks", "velocity_window_minutes", "terms",
                  "targeting", "caps", "caps_status", "rules", "partnership", "created_at", "updated_at"]

    @extend_schema_field(TargetingSerializer)
    def get_targeting(self, program):
        return {key: list((program.targeting or {}).get(key) or []) for key in targeting.KEYS}

    @extend_schema_field(CAPS_STATUS_SCHEMA)
    def get_caps_status(self, program):
        """For an affiliate: the caps that apply to it (its partnership's own, else the program's)."""
        partnership = (self.context.get("partnerships") or {}).get(program.pk)
        return caps_status_data(program, partnership)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_second_tier_percent(self, program):
        return format_rate(program.second_tier_percent, CommissionRule.Kind.PERCENT, program.currency)

    @extend_schema_field(RuleSerializer(many=True))
    def get_rules(self, program):
        membership = self.context.get("membership")
        rules = selectors.rules_visible_to(program=program, membership=membership) if membership else []
        for rule in rules:
            rule.program = program
        return RuleSerializer(rules, many=True, context=self.context).data

    @extend_schema_field(PartnershipRefSerializer(allow_null=True))
    def get_partnership(self, program):
        """The calling affiliate's partnership in this program (null when none, or for other roles)."""
        partnerships = self.context.get("partnerships") or {}
        partnership = partnerships.get(program.pk)
        return {"id": partnership.pk, "status": partnership.status} if partnership else None


class InviteSerializer(serializers.Serializer):
    affiliate = IdField()


# --- partnerships -----------------------------------------------------------------------------------
class PartnershipSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)
    affiliate_name = serializers.CharField(source="affiliate.name", read_only=True)
    decided_by = serializers.SerializerMethodField()
    invited = serializers.SerializerMethodField()
    caps = CapsField(read_only=True, help_text="The partnership's own caps (null: the program's apply).")
    caps_status = serializers.SerializerMethodField()

    class Meta:
        model = Partnership
        fields = ["id", "program", "program_name", "affiliate", "affiliate_name", "status", "applied_at",
                  "decided_at", "decided_by", "invited", "invited_at", "note", "caps", "caps_status"]

    @extend_schema_field(CAPS_STATUS_SCHEMA)
    def get_caps_status(self, partnership):
        return caps_status_data(partnership.program, partnership)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_decided_by(self, partnership):
        """E-mail of who decided (null: automatic); affiliates are not shown the advertiser's users."""
        membership = self.context.get("membership")
        if partnership.decided_by_id is None or (membership is not None and membership.role == Role.AFFILIATE):
            return None
        return partnership.decided_by.email

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_invited(self, partnership):
        return partnership.invited_at is not None


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                 help_text="Shown to the affiliate in the e-mail.")


# --- tracking links ---------------------------------------------------------------------------------
class LinkCreateSerializer(serializers.Serializer):
    program = IdField()
    url = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                help_text="Deep link: a page on the program's landing host or allowed domains.")
    sub1 = serializers.CharField(required=False, allow_blank=True, max_length=255)
    sub2 = serializers.CharField(required=False, allow_blank=True, max_length=255)
    sub3 = serializers.CharField(required=False, allow_blank=True, max_length=255)
    sub4 = serializers.CharField(required=False, allow_blank=True, max_length=255)
    sub5 = serializers.CharField(required=False, allow_blank=True, max_length=255)


class LinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The full tracking URL to share.")

    class Meta:
        model = TrackingLink
        fields = ["id", "code", "url", "destination_url", "program", "partnership", "affiliate", "sub1", "sub2",
                  "sub3", "sub4", "sub5", "archived", "created_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, link):
        return selectors.link_url(link)


# --- creatives --------------------------------------------------------------------------------------
class CreativeWriteSerializer(serializers.Serializer):
    program = IdField()
    kind = serializers.ChoiceField(choices=Creative.Kind.choices)
    name = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, max_length=50_000,
                                 help_text="Text, HTML or e-mail body; {tracking_url} becomes the affiliate's link.")
    image = serializers.ImageField(required=False, help_text="Banner image (PNG, JPEG, GIF or WebP, at most 5 MB).")
    # A default, not just required=False: a form post without the field would otherwise read as false.
    is_active = serializers.BooleanField(default=True)

    def validate_image(self, image):
        if image.size > MAX_BANNER_BYTES:
            raise serializers.ValidationError("The image is larger than 5 MB.")
        fmt = getattr(getattr(image, "image", None), "format", None)
        if fmt not in BANNER_FORMATS:
            raise serializers.ValidationError("Upload a PNG, JPEG, GIF or WebP image.")
        return image

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        has_image = "image" in attrs or bool(getattr(self.instance, "image", None))
        body = attrs.get("body", getattr(self.instance, "body", ""))
        if kind == Creative.Kind.BANNER and not has_image:
            raise serializers.ValidationError({"image": ["A banner needs an image."]})
        if kind != Creative.Kind.BANNER and not body:
            raise serializers.ValidationError({"body": [f"A {kind} creative needs a body."]})
        return attrs


def render_creative(creative: Creative, url: str, image_url: str | None) -> str:
    body = creative.body or ""
    if "{tracking_url}" in body:
        return body.replace("{tracking_url}", url).replace("{image_url}", image_url or "")
    if creative.kind == Creative.Kind.BANNER:
        size = f' width="{creative.width}" height="{creative.height}"' if creative.width and creative.height else ""
        return f'<a href="{escape(url)}"><img src="{escape(image_url or "")}" alt="{escape(creative.name)}"{size}></a>'
    if creative.kind == Creative.Kind.TEXT:
        return f'<a href="{escape(url)}">{escape(body)}</a>'
    return body


class CreativeSerializer(serializers.ModelSerializer):
    image = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField()
    rendered = serializers.SerializerMethodField()

    class Meta:
        model = Creative
        fields = ["id", "program", "kind", "name", "body", "image", "width", "height", "is_active", "tracking_url",
                  "rendered", "created_at"]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_image(self, creative):
        if not creative.image:
            return None
        request = self.context.get("request")
        url = creative.image.url
        return request.build_absolute_uri(url) if request is not None else url

    @extend_schema_field(OpenApiTypes.URI)
    def get_tracking_url(self, creative):
        """The affiliate's own link for this program; a preview URL for advertisers and operators."""
        urls = self.context.get("tracking_urls") or {}
        return urls.get(creative.program_id) or selectors.tracking_url(
            "preview", network_id=creative.network_id, advertiser_id=lambda: creative.program.advertiser_id)

    @extend_schema_field(OpenApiTypes.STR)
    def get_rendered(self, creative):
        return render_creative(creative, self.get_tracking_url(creative), self.get_image(creative))


# --- coupons ----------------------------------------------------------------------------------------
class CouponCreateSerializer(serializers.Serializer):
    partnership = IdField()
    # The validator puts the pattern in the schema; leading and trailing blanks are trimmed before it (and allowed).
    code = serializers.CharField(max_length=64, help_text="3 to 64 letters, digits, - and _; stored upper case.",
                                 validators=[RegexValidator(COUPON_CODE, COUPON_CODE_MESSAGE)])
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_code(self, value):
        value = value.strip()
        if not COUPON_CODE.match(value):
            raise serializers.ValidationError(COUPON_CODE_MESSAGE)
        return value.upper()


class CouponSerializer(serializers.ModelSerializer):
    program = serializers.IntegerField(source="partnership.program_id", read_only=True)
    affiliate = serializers.IntegerField(source="partnership.affiliate_id", read_only=True)

    class Meta:
        model = CouponCode
        fields = ["id", "code", "description", "partnership", "program", "affiliate", "is_active", "created_at"]
