"""Forms of the network's web pages: join, invitations, announcements, network settings, API keys.

`Network.payout_settings` is not edited here: the payouts app owns its schema and its form
(`payouts.policy`, the operator's payout settings page).
"""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from core.money import is_currency

from .models import Announcement, Membership, Network, User


class JoinForm(forms.Form):
    """A new affiliate with a new account."""

    name = forms.CharField(max_length=120, label=_("Your name or site's name"))
    email = forms.EmailField(label=_("E-mail"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label=_("Password (again)"),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_email(self):
        # Whether an account has this address is not said here (the join page is public): the view answers as for
        # a new account and mails the address's owner instead (accounts.join_existing_notify).
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
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

    name = forms.CharField(max_length=120, label=_("Your name or site's name"))


class InviteForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    email = forms.EmailField(label=_("E-mail"))

    def __init__(self, *args, network: Network, **kwargs):
        super().__init__(*args, **kwargs)
        self.network = network

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.for_network(self.network).filter(user__email__iexact=email).exists():
            raise forms.ValidationError(_("Someone with this e-mail is already in this network."))
        return email


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["audience", "title", "body"]
        labels = {"audience": _("Audience"), "title": _("Title"), "body": _("Message")}
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, initial="default", label=_("Key name"))


class NetworkSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=[], label=_("Time zone"))

    class Meta:
        model = Network
        fields = ["name", "default_currency", "timezone", "language", "affiliate_approval_required", "is_public",
                  "click_retention_days", "advertiser_tracking_domains"]
        labels = {"name": _("Name"), "default_currency": _("Currency"), "language": _("Language"),
                  "affiliate_approval_required": _("New affiliates need approval"),
                  "is_public": _("List this network on the home page (anyone may find its join page)"),
                  "click_retention_days": _("Keep raw clicks (days)"),
                  "advertiser_tracking_domains": _("Advertisers may add a tracking domain for their programs")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]
        self.fields["language"].choices = [("", _("Each person's browser language")), *settings.LANGUAGES]
        self.fields["language"].help_text = _("Pages and e-mails of the network speak it unless a person chose "
                                              "another language in the top bar.")
        self.fields["click_retention_days"].min_value = 1
        self.fields["click_retention_days"].widget.attrs.update(min=1, max=3650)

    def clean_default_currency(self):
        currency = self.cleaned_data["default_currency"].strip().upper()
        if not is_currency(currency):
            raise forms.ValidationError(_("'%(currency)s' is not an ISO 4217 currency code.") % {"currency": currency})
        return currency

    def clean_click_retention_days(self):
        days = self.cleaned_data["click_retention_days"]
        if not 1 <= days <= 3650:
            raise forms.ValidationError(_("Between 1 and 3650 days."))
        return days


class PartnerGroupForm(forms.Form):
    """A new partner group (the service checks the name is free in the network)."""

    name = forms.CharField(max_length=60, label=_("Group name"))
    description = forms.CharField(required=False, max_length=2000, label=_("Description"),
                                  widget=forms.Textarea(attrs={"rows": 2}))


class NetworkStartForm(forms.Form):
    """A new network started from the web by a signed-in person (its owner)."""

    name = forms.CharField(max_length=120, label=_("Network name"))
    slug = forms.SlugField(max_length=60, label=_("Address"),
                           help_text=_("Letters, digits and hyphens: your join page is /n/<address>/join."))
    default_currency = forms.CharField(max_length=3, initial="EUR", label=_("Currency"),
                                       help_text=_("ISO 4217 code, e.g. EUR, USD, PLN."))
    timezone = forms.ChoiceField(choices=[], initial="UTC", label=_("Time zone"))
    is_public = forms.BooleanField(required=False, initial=True,
                                   label=_("List this network on the home page (anyone may find its join page)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip().lower()
        if Network.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("This address is taken: choose another."))
        return slug

    def clean_default_currency(self):
        currency = self.cleaned_data["default_currency"].strip().upper()
        if not is_currency(currency):
            raise forms.ValidationError(_("'%(code)s' is not an ISO 4217 currency code.") % {"code": currency})
        return currency
