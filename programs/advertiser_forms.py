"""Forms of the advertiser's program pages. They only collect text: the values are validated by the same
serializers and services as the API (`ProgramWriteSerializer`, `CreativeWriteSerializer`, ...), and their
errors are put next to the fields with `errors_to_form`."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import CommissionRule, Creative, Program
from .targeting import DEVICE_LABELS

TARGETING_FIELDS = ("countries_allowed", "countries_blocked", "devices")
CAP_MEASURES = ("conversions_day", "conversions_month", "payout_month")
RULE_FIELDS = ("event", "kind", "payout", "revenue", "tiers", "tier_period", "tier_basis", "recurring_months",
               "affiliate", "group", "match")


def _flatten(value) -> list[str]:
    """DRF error details (lists, dicts keyed by field or index) as plain messages."""
    if isinstance(value, dict):
        return [f"{key}: {message}" if not str(key).isdigit() else message
                for key, item in value.items() for message in _flatten(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _flatten(item)]
    return [str(value)]


def errors_to_form(form, errors) -> None:
    """Put serializer (`dict`) or service (`ValidationError`) errors next to the form's fields (a nested object's,
    such as `caps.conversions_day`, next to the form's `caps_conversions_day`)."""
    if isinstance(errors, ValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {None: errors.messages}
    errors = dict(errors)
    for parent in [name for name, value in errors.items() if isinstance(value, dict) and name]:
        if any(f"{parent}_{key}" in form.fields for key in errors[parent]):
            for key, messages in errors.pop(parent).items():
                errors[f"{parent}_{key}" if f"{parent}_{key}" in form.fields else None] = messages
    for name, messages in errors.items():
        if isinstance(messages, dict) and name not in form.fields:
            errors_to_form(form, messages)  # a nested object's errors (`targeting`) go to the fields named alike
            continue
        field = name if name in form.fields else None
        for message in _flatten(messages):
            form.add_error(field, message)


def rule_errors_to_forms(rule_forms: list, errors) -> list[str]:
    """`rules` errors from the serializer: per rule (a list by position, or a dict keyed by index) go next to
    that rule's fields; messages about the rules as a whole are returned."""
    general = []
    if isinstance(errors, dict):
        items = [(int(key), value) for key, value in errors.items() if str(key).isdigit()]
        general.extend(message for key, value in errors.items() if not str(key).isdigit()
                       for message in _flatten(value))
    else:
        items = []
        for index, value in enumerate(errors):
            if isinstance(value, dict):
                items.append((index, value))
            elif value:
                general.extend(_flatten(value))
    for index, value in items:
        if index < len(rule_forms):
            errors_to_form(rule_forms[index], value)
        else:
            general.extend(_flatten(value))
    return general


def _choices(model_choices, blank: str | None = None):
    return ([("", blank)] if blank is not None else []) + list(model_choices)


class CapsFields(forms.Form):
    """Caps and budget as text fields (`caps_*`), on the program's form and on a partnership's own caps."""

    caps_conversions_day = forms.CharField(label=_("Conversions per day"), required=False,
                                           help_text=_("Empty: no daily cap. Days in the network's time zone."))
    caps_conversions_month = forms.CharField(label=_("Conversions per month"), required=False,
                                             help_text=_("Empty: no monthly cap."))
    caps_payout_month = forms.CharField(label=_("Payout budget per month"), required=False,
                                        help_text=_("In the program's currency; empty: no budget."))
    caps_action = forms.ChoiceField(
        label=_("Past a cap"), initial="hold",
        choices=[("hold", _("Hold the commission for my review")), ("reject", _("Record the sale, no commission")),
                 ("pause", _("Pause the program's clicks until the period resets"))])

    def caps_payload(self, data: dict) -> dict | None:
        """Pops the `caps_*` values from `data` (the fields' text) and returns the API's `caps` (None: no cap)."""
        limits = {name: data.pop(f"caps_{name}") or None for name in CAP_MEASURES}
        action = data.pop("caps_action") or "hold"
        return limits | {"action": action} if any(v is not None for v in limits.values()) else None

    @staticmethod
    def caps_initial(caps: dict | None) -> dict:
        caps = caps or {}
        initial = {f"caps_{name}": "" if caps.get(name) is None else str(caps[name]) for name in CAP_MEASURES}
        initial["caps_action"] = caps.get("action") or "hold"
        return initial


class PartnershipCapsForm(CapsFields):
    """A partnership's own caps, which replace the program's for this partner's conversions."""

    own_caps = forms.BooleanField(
        label=_("Give this partner its own caps"), required=False,
        help_text=_("Unticked: the program's caps and budget apply to this partner."))

    def payload(self) -> dict:
        data = {name: self.data.get(name, "").strip() for name in self.fields if name.startswith("caps_")}
        caps = self.caps_payload(data)
        return {"caps": caps if self.data.get("own_caps") else None}

    @classmethod
    def initial_for(cls, partnership) -> dict:
        return cls.caps_initial(partnership.caps) | {"own_caps": partnership.caps is not None}


class ProgramForm(CapsFields):
    name = forms.CharField(max_length=200, label=_("Name"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    landing_url = forms.CharField(label=_("Landing URL"), max_length=2000,
                                  widget=forms.URLInput(attrs={"placeholder": _("https://shop.example.com/")}))
    currency = forms.CharField(max_length=3, label=_("Currency"), help_text=_("ISO 4217 code; it cannot change later."))
    allowed_domains = forms.CharField(
        label=_("Allowed domains"),
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Deep links may point to these hosts (one per line, *.shop.test for subdomains); the landing "
        "URL's host is always allowed."))
    approval = forms.ChoiceField(label=_("Approval"), choices=Program.Approval.choices,
                                 initial=Program.Approval.MANUAL)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Program.Visibility.choices,
                                   initial=Program.Visibility.PUBLIC)
    attribution_window_days = forms.CharField(label=_("Attribution window (days)"), initial="30")
    attribution_model = forms.ChoiceField(
        label=_("Attribution model"), choices=Program.AttributionModel.choices,
        initial=Program.AttributionModel.LAST_CLICK,
        help_text=_("Which of a visitor's clicks within the window earns the sale."))
    hold_days = forms.CharField(label=_("Hold days (refund window)"), initial="30")
    fallback_url = forms.CharField(label=_("Fallback URL"), required=False, max_length=2000,
                                   help_text=_("Where clicks go when the program or link is stopped."))
    second_tier_percent = forms.CharField(label=_("Second-tier percent"), required=False,
                                          help_text=_("What the referring affiliate earns on their referrals' "
                                          "commissions (empty: none)."))
    fraud_policy = forms.ChoiceField(label=_("Fraud policy"), choices=Program.FraudPolicy.choices,
                                     initial=Program.FraudPolicy.HOLD)
    velocity_max_clicks = forms.CharField(
        label=_("IP velocity: clicks allowed"), required=False, initial="10",
        help_text=_("More clicks than this from one visitor within the window are flagged as fraud (0: off)."))
    velocity_window_minutes = forms.CharField(label=_("IP velocity window (minutes)"), required=False, initial="60")
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    countries_allowed = forms.CharField(
        label=_("Only these countries"), required=False, widget=forms.TextInput(attrs={"placeholder": _("DE, AT, CH")}),
        help_text=_("ISO 3166-1 alpha-2 codes, separated by commas or spaces (empty: every country)."))
    countries_blocked = forms.CharField(
        label=_("Not these countries"), required=False, widget=forms.TextInput(attrs={"placeholder": _("US")}),
        help_text=_("ISO 3166-1 alpha-2 codes of countries whose visitors are refused."))
    devices = forms.MultipleChoiceField(
        label=_("Device types"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(device, label) for device, label in DEVICE_LABELS.items()],
        help_text=_("None ticked: every device type."))
    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["currency"].disabled = True

    def payload(self) -> dict:
        """The API body these values make (the serializer validates it)."""
        data = {name: self.data.get(self.add_prefix(name), "").strip() for name in self.fields
                if name not in TARGETING_FIELDS}
        devices = self.data.getlist(self.add_prefix("devices")) if hasattr(self.data, "getlist") else []
        data["targeting"] = {"countries_allowed": self._codes("countries_allowed"),
                             "countries_blocked": self._codes("countries_blocked"), "devices": devices}
        if self.fields["currency"].disabled:
            data.pop("currency")
        else:
            data["currency"] = data["currency"].upper()
        data["allowed_domains"] = [d for d in data["allowed_domains"].replace(",", "\n").split() if d]
        if data["second_tier_percent"] == "":
            data["second_tier_percent"] = None
        for name in ("velocity_max_clicks", "velocity_window_minutes", "attribution_model"):
            if data[name] == "":
                data.pop(name)  # left empty: the program's current value (the default for a new one)
        data["caps"] = self.caps_payload(data)
        return data

    def _codes(self, name: str) -> list[str]:
        return self.data.get(self.add_prefix(name), "").replace(",", " ").split()

    @classmethod
    def initial_for(cls, program: Program) -> dict:
        targeting = program.targeting or {}
        initial = {name: getattr(program, name) for name in cls.base_fields
                   if name not in TARGETING_FIELDS and not name.startswith("caps_")}
        initial["countries_allowed"] = ", ".join(targeting.get("countries_allowed") or [])
        initial["countries_blocked"] = ", ".join(targeting.get("countries_blocked") or [])
        initial["devices"] = list(targeting.get("devices") or [])
        initial["allowed_domains"] = "\n".join(program.allowed_domains or [])
        if program.second_tier_percent is None:
            initial["second_tier_percent"] = ""
        return initial | cls.caps_initial(program.caps)


class RuleForm(forms.Form):
    event = forms.ChoiceField(label=_("Event"), choices=CommissionRule.Event.choices,
                              initial=CommissionRule.Event.SALE)
    kind = forms.ChoiceField(label=_("Kind"), choices=CommissionRule.Kind.choices, initial=CommissionRule.Kind.PERCENT)
    payout = forms.CharField(label=_("Payout"), required=False,
                             help_text=_("Percent of the order, or an amount in the program currency."))
    revenue = forms.CharField(required=False, label=_("Your cost"),
                              help_text=_("What you pay the network (empty: the payout)."))
    tiers = forms.CharField(
        label=_("Tiers"), required=False, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "10 12.5\n50 15"}),
        help_text=_("One tier a line: threshold (conversions, or sales amount) and payout."))
    tier_period = forms.ChoiceField(label=_("Tier period"), choices=CommissionRule.TierPeriod.choices,
                                    initial=CommissionRule.TierPeriod.MONTH)
    tier_basis = forms.ChoiceField(
        label=_("Tiers count"), choices=CommissionRule.TierBasis.choices, initial=CommissionRule.TierBasis.CONVERSIONS,
        help_text=_("Conversions or sales amount in the period (rejected and refunded ones do not count)."))
    recurring_months = forms.CharField(
        label=_("Recurring months"), required=False, initial="0",
        help_text=_("Renewals: 0 = first payment only, N = within N months, 'forever'."))
    affiliate = forms.ChoiceField(label=_("Affiliate"), required=False,
                                  help_text=_("Only for this affiliate (optional)."))
    group = forms.ChoiceField(required=False, label=_("Partner group"),
                              help_text=_("Only for this partner group (optional)."))
    match_by = forms.ChoiceField(
        required=False, label=_("Products"),
        choices=[("sku", _("Items with these SKUs")), ("category", _("Items in these categories"))],
        help_text=_("A product-level rate pays only the order's items it matches."))
    match = forms.CharField(
        required=False, label=_("SKUs or categories"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separated by commas or lines; empty: the rule pays whole orders."))

    def __init__(self, *args, affiliates=(), groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["affiliate"].choices = [("", _("Every affiliate"))] + [(str(a.pk), a.name) for a in affiliates]
        self.fields["group"].choices = [("", _("Every group"))] + [(str(g.pk), g.name) for g in groups]

    def is_blank(self) -> bool:
        return not self.data.get(self.add_prefix("payout"), "").strip()

    def payload(self) -> dict | None:
        """The rule's API body, or None when the tiers text cannot be read (the error is on the field)."""
        value = {name: self.data.get(self.add_prefix(name), "").strip() for name in RULE_FIELDS}
        value["revenue"] = value["revenue"] or None
        months = value["recurring_months"].lower()
        value["recurring_months"] = None if months == "forever" else (months or 0)
        value["affiliate"] = value["affiliate"] or None
        value["group"] = value["group"] or None
        value["tier_basis"] = value["tier_basis"] or CommissionRule.TierBasis.CONVERSIONS
        listed = [v.strip() for v in value["match"].replace(",", "\n").splitlines() if v.strip()]
        match_by = self.data.get(self.add_prefix("match_by"), "").strip() or "sku"
        value["match"] = {match_by: listed} if listed else None
        key = "min_amount" if value["tier_basis"] == CommissionRule.TierBasis.AMOUNT else "min_conversions"
        tiers = []
        for number, line in enumerate(value["tiers"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.replace(",", " ").split()
            if len(parts) != 2:
                self.add_error("tiers", _("Line %(number)s: write '%(key)s payout', e.g. '10 12.50'.") % {
                    "number": number, "key": key})
                return None
            tiers.append({key: parts[0], "payout": parts[1]})
        value["tiers"] = tiers
        return value


RuleFormSet = forms.formset_factory(RuleForm, extra=0)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[
        (value, label) for value, label in Program.Status.choices if value != Program.Status.DRAFT])


class CreativeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Creative.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    body = forms.CharField(label=_("Content"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Text, HTML or e-mail body; {tracking_url} becomes each affiliate's link."))
    image = forms.FileField(label=_("Image"), required=False,
                            help_text=_("Banner: PNG, JPEG, GIF or WebP, at most 5 MB."))


class CouponForm(forms.Form):
    partnership = forms.ChoiceField(label=_("Partner"))
    code = forms.CharField(label=_("Code"), max_length=64)
    description = forms.CharField(label=_("Description"), required=False, max_length=200)

    def __init__(self, *args, partnerships=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partnership"].choices = [("", _("Choose an approved partner"))] + [
            (str(p.pk), p.affiliate.name) for p in partnerships]


class InviteForm(forms.Form):
    affiliate = forms.ChoiceField(label=_("Affiliate"))

    def __init__(self, *args, affiliates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["affiliate"].choices = [("", _("Choose an affiliate"))] + [(str(a.pk), a.name) for a in affiliates]


def start_api_validation(*forms_) -> None:
    """Bound forms whose values the API serializers validate: no form-level cleaning, errors come from
    `errors_to_form` only (so a message is never shown twice)."""
    from django.forms.utils import ErrorDict

    for form in forms_:
        form._errors = ErrorDict()
        form.cleaned_data = {}


ID_PATTERN = "[0-9]{1,18}"  # a primary key in a URL: at most 18 digits, so it always fits a 64-bit column


def as_id(value) -> int | None:
    """A primary key from a query string or form value, or None (never a number the database cannot hold)."""
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 18 else None
