"""Forms of the network's web pages: join, invitations, announcements, network settings, API keys.

`Network.payout_settings` as written by `NetworkSettingsForm` (the payouts app reads it):
`{"schedule": "weekly"|"monthly"|"manual", "weekday": 0-6 (Monday=0, weekly only),
"day": 1-28 (monthly only), "thresholds": {"EUR": "50.00", ...}}` (amounts as strings
quantized to the currency's minor units). Other keys already in the JSON are kept.
"""

import zoneinfo

from django import forms
from django.contrib.auth import password_validation

from core.money import is_currency, minor_units, parse_amount, quantize

from .models import Announcement, Membership, Network, User

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"),
            (6, "Sunday")]


class JoinForm(forms.Form):
    """A new affiliate with a new account."""

    name = forms.CharField(max_length=120, label="Your name or site's name")
    email = forms.EmailField(label="E-mail")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label="Password (again)",
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail exists: log in first (or reset your password), then open this page again."
            )
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            email = cleaned.get("email", "")
            user = User(email=email, username=email, first_name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class JoinExistingForm(forms.Form):
    """A logged-in user joins one more network as an affiliate."""

    name = forms.CharField(max_length=120, label="Your name or site's name")


class InviteForm(forms.Form):
    name = forms.CharField(max_length=120)
    email = forms.EmailField(label="E-mail")

    def __init__(self, *args, network: Network, **kwargs):
        super().__init__(*args, **kwargs)
        self.network = network

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.for_network(self.network).filter(user__email__iexact=email).exists():
            raise forms.ValidationError("Someone with this e-mail is already in this network.")
        return email


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["audience", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, initial="default", label="Key name")


class NetworkSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=[])
    payout_schedule = forms.ChoiceField(choices=Network.Schedule.choices, label="Payout schedule")
    payout_weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, required=False,
                                            label="Weekday (weekly schedule)")
    payout_day = forms.IntegerField(min_value=1, max_value=28, required=False, label="Day of month (monthly schedule)",
                                    help_text="1 to 28, so every month has it.")
    payout_thresholds = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Minimum payout per currency",
        help_text="One per line: currency and amount, e.g. “EUR 50.00”. A balance below it waits for the next run.",
    )

    class Meta:
        model = Network
        fields = ["name", "default_currency", "timezone", "affiliate_approval_required", "click_retention_days"]
        labels = {"default_currency": "Currency", "affiliate_approval_required": "New affiliates need approval",
                  "click_retention_days": "Keep raw clicks (days)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]
        self.fields["click_retention_days"].min_value = 1
        self.fields["click_retention_days"].widget.attrs.update(min=1, max=3650)
        payout = self.instance.payout_settings or {}
        self.initial.setdefault("payout_schedule", payout.get("schedule", Network.Schedule.MONTHLY))
        self.initial.setdefault("payout_weekday", payout.get("weekday", 0))
        self.initial.setdefault("payout_day", payout.get("day", 1))
        thresholds = payout.get("thresholds", {})
        self.initial.setdefault("payout_thresholds", "\n".join(f"{c} {a}" for c, a in sorted(thresholds.items())))

    def clean_default_currency(self):
        currency = self.cleaned_data["default_currency"].strip().upper()
        if not is_currency(currency):
            raise forms.ValidationError(f"'{currency}' is not an ISO 4217 currency code.")
        return currency

    def clean_click_retention_days(self):
        days = self.cleaned_data["click_retention_days"]
        if not 1 <= days <= 3650:
            raise forms.ValidationError("Between 1 and 3650 days.")
        return days

    def clean_payout_thresholds(self) -> dict:
        thresholds = {}
        for number, line in enumerate(self.cleaned_data["payout_thresholds"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise forms.ValidationError(f"Line {number}: write a currency and an amount, e.g. “EUR 50.00”.")
            currency, raw = parts[0].upper(), parts[1]
            if not is_currency(currency):
                raise forms.ValidationError(f"Line {number}: '{parts[0]}' is not an ISO 4217 currency code.")
            try:
                amount = parse_amount(raw)
            except ValueError:
                raise forms.ValidationError(f"Line {number}: '{raw}' is not an amount.") from None
            if amount < 0:
                raise forms.ValidationError(f"Line {number}: the minimum cannot be negative.")
            if amount != quantize(amount, currency):
                raise forms.ValidationError(
                    f"Line {number}: {currency} has {minor_units(currency)} decimal places at most.")
            if currency in thresholds:
                raise forms.ValidationError(f"Line {number}: {currency} is listed twice.")
            thresholds[currency] = str(quantize(amount, currency))
        return thresholds

    def clean(self):
        cleaned = super().clean()
        schedule = cleaned.get("payout_schedule")
        if schedule == Network.Schedule.WEEKLY and cleaned.get("payout_weekday") in (None, ""):
            self.add_error("payout_weekday", "Pick the weekday of the weekly payout.")
        if schedule == Network.Schedule.MONTHLY and cleaned.get("payout_day") is None:
            self.add_error("payout_day", "Pick the day of the monthly payout.")
        return cleaned

    def save(self, commit=True):
        network = super().save(commit=False)
        payout = dict(network.payout_settings or {})
        schedule = self.cleaned_data["payout_schedule"]
        payout["schedule"] = schedule
        payout.pop("weekday", None)
        payout.pop("day", None)
        if schedule == Network.Schedule.WEEKLY:
            payout["weekday"] = self.cleaned_data["payout_weekday"]
        elif schedule == Network.Schedule.MONTHLY:
            payout["day"] = self.cleaned_data["payout_day"]
        payout["thresholds"] = self.cleaned_data["payout_thresholds"]
        network.payout_settings = payout
        if commit:
            network.save()
        return network

