"""The partner portal's payout pages: the affiliate's payouts and balance; payout methods (Stripe Connect
onboarding, PayPal, bank with IBAN check; default; remove) and tax details with the form upload."""

import stripe
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from rest_framework import serializers as drf_serializers

from commissions import ledger
from network.models import Role
from network.views import PartnerPage
from network.web import NetworkPageMixin, paginate

from . import services
from .models import MethodKind, Payout, PayoutMethod, TaxDetails
from .onboarding import country_choices, payout_method_stripe_sync
from .providers import stripe_connect
from .serializers import TaxDetailsSerializer

AFFILIATE = frozenset({Role.AFFILIATE})


def _field_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "message_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class PayPalForm(forms.Form):
    paypal_email = forms.EmailField(label=_("PayPal e-mail"))
    label = forms.CharField(label=_("Label (optional)"), required=False, max_length=80)


class BankForm(forms.Form):
    bank_holder = forms.CharField(label=_("Account holder"), max_length=120)
    bank_account = forms.CharField(label=_("IBAN or account number"), max_length=64)
    bank_bic = forms.CharField(label=_("BIC/SWIFT or routing number"), max_length=34, required=False,
                               help_text=_("Optional with an IBAN of a bank we know: it is then filled in."))
    bank_country = forms.CharField(label=_("Country (ISO code)"), max_length=2,
                                   widget=forms.TextInput(attrs={"placeholder": _("DE")}))
    label = forms.CharField(label=_("Label (optional)"), required=False, max_length=80)


METHOD_FORMS = {MethodKind.PAYPAL: PayPalForm, MethodKind.BANK: BankForm}


class StripeConnectForm(forms.Form):
    """The country of a new Stripe Express account (Stripe cannot change it later)."""

    country = forms.ChoiceField(label=_("Country you live in (or your business is registered in)"),
                                choices=lambda: [("", "—"), *country_choices()])


class TaxForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    country = forms.CharField(label=_("Country (ISO code)"), max_length=2, required=False)
    tax_id = forms.CharField(label=_("Tax id (VAT, EIN…)"), max_length=40, required=False)
    form_type = forms.ChoiceField(label=_("Tax form"), choices=TaxDetails.FormType.choices, required=False)
    form_file = forms.FileField(label=_("Upload the form (PDF, PNG or JPEG, 5 MB at most)"), required=False)

    def _serializer_check(self, name, value):
        # The API's checks (one set of rules for both surfaces).
        try:
            return getattr(TaxDetailsSerializer(), f"validate_{name}")(value)
        except drf_serializers.ValidationError as exc:
            raise forms.ValidationError(list(exc.detail)) from exc

    def clean_country(self):
        return self._serializer_check("country", self.cleaned_data["country"].strip())

    def clean_form_file(self):
        value = self.cleaned_data.get("form_file")
        return self._serializer_check("form_file", value) if value else value


class PayoutsView(PartnerPage):
    template_name = "partner/payouts_list.html"

    def get_context_data(self, **kwargs):
        payouts = self.scoped(Payout).filter(affiliate=self.party).select_related("batch").order_by("-id")
        return super().get_context_data(
            page=paginate(self.request, payouts),
            balances=ledger.affiliate_balances(network=self.network, affiliate=self.party),
            thresholds=(self.network.payout_settings or {}).get("thresholds", {}),
            default_method=self.scoped(PayoutMethod).filter(affiliate=self.party, is_default=True).first(),
            **kwargs)


class PayoutSettingsView(PartnerPage):
    """Payout methods and tax details; POST kind=paypal|bank adds a method."""

    template_name = "partner/payouts_settings.html"

    def methods(self):
        return self.scoped(PayoutMethod).filter(affiliate=self.party)

    def get_context_data(self, paypal_form=None, bank_form=None, tax_form=None, **kwargs):
        details = self.scoped(TaxDetails).filter(affiliate=self.party).first()
        initial = {} if details is None else {f: getattr(details, f) for f in ("legal_name", "country", "tax_id",
                                                                             "form_type")}
        stripe_state = self.request.GET.get("stripe", "")
        stripe_state = stripe_state if stripe_state in ("return", "refresh") else ""
        return super().get_context_data(
            methods=self.methods(), paypal_form=paypal_form or PayPalForm(), bank_form=bank_form or BankForm(),
            tax_form=tax_form or TaxForm(initial=initial), tax=details,
            has_stripe=self.methods().filter(kind=MethodKind.STRIPE_CONNECT).exists(),
            stripe_configured=stripe_connect.is_configured(),
            stripe_form=StripeConnectForm(initial={"country": details.country if details else ""}),
            stripe_state=stripe_state, stripe_account=self.stripe_account() if stripe_state else None, **kwargs)

    def stripe_account(self) -> dict | None:
        """Back from Stripe (or sent back to restart): the account's state as Stripe has it now."""
        if not stripe_connect.is_configured():
            return None
        try:
            return payout_method_stripe_sync(network=self.network, affiliate=self.party)
        except stripe.StripeError:
            return {"error": True}

    def post(self, request, *args, **kwargs):
        kind = request.POST.get("kind", "")
        if kind == "tax":
            return self.post_tax(request)
        if kind not in METHOD_FORMS:
            return self.render_to_response(self.get_context_data(error=_("Pick PayPal or a bank account.")), status=400)
        form = METHOD_FORMS[kind](request.POST)
        if form.is_valid():
            try:
                services.payout_method_create(network=self.network, affiliate=self.party, kind=kind,
                                              is_default=request.POST.get("is_default") == "on", actor=request.user,
                                              **form.cleaned_data)
            except ValidationError as exc:
                _field_errors(form, exc)
            else:
                messages.success(request, _("%(label)s added.") % {"label": MethodKind(kind).label})
                return redirect("partner_payout_settings")
        return self.render_to_response(self.get_context_data(**{f"{kind}_form": form}), status=400)

    def post_tax(self, request):
        form = TaxForm(request.POST, request.FILES)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "form_file"}
            if form.cleaned_data.get("form_file"):
                fields["form_file"] = form.cleaned_data["form_file"]
            services.tax_details_update(network=self.network, affiliate=self.party, actor=request.user, **fields)
            messages.success(request, _("Tax details saved."))
            return redirect("partner_payout_settings")
        return self.render_to_response(self.get_context_data(tax_form=form), status=400)


class MethodActionView(NetworkPageMixin, View):
    """POST: make a method the default, or remove it (the affiliate's own methods only)."""

    roles = AFFILIATE
    action = "default"

    def post(self, request, pk):
        method = get_object_or_404(PayoutMethod.objects.for_network(self.network).filter(affiliate=self.party),
                                   pk=pk)
        if self.action == "default":
            services.payout_method_set_default(network=self.network, method=method, actor=request.user)
            messages.success(request, _("%(kind)s is now your default payout method.") % {
                "kind": method.get_kind_display()})
        else:
            services.payout_method_delete(network=self.network, method=method, actor=request.user)
            messages.success(request, _("%(kind)s removed.") % {"kind": method.get_kind_display()})
        return redirect("partner_payout_settings")


class StripeOnboardingView(NetworkPageMixin, View):
    """POST: connect (or finish connecting) a Stripe Express account: redirect to Stripe's onboarding link."""

    roles = AFFILIATE

    def post(self, request):
        back = request.build_absolute_uri(reverse("partner_payout_settings"))
        try:
            _method, url = services.payout_method_stripe_onboard(
                network=self.network, affiliate=self.party, actor=request.user,
                country=request.POST.get("country", "")[:8],
                refresh_url=f"{back}?stripe=refresh", return_url=f"{back}?stripe=return")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("partner_payout_settings")
        except stripe_connect.StripeNotConfigured:
            messages.error(request, _("Stripe payouts are not available on this network yet: add PayPal or a bank "
                                    "account instead."))
            return redirect("partner_payout_settings")
        except stripe.StripeError as exc:
            messages.error(request, _("Stripe could not start the onboarding: %(reason)s.") % {
                "reason": getattr(exc, "user_message", None) or _("please try again later")})
            return redirect("partner_payout_settings")
        return redirect(url)
