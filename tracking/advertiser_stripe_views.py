"""The Stripe billing section of the advertiser's integration page: connect a Stripe account to a program, set or
rotate its signing secret, disable, enable or delete it, and read the events it received."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views import View

from programs import selectors as program_selectors
from programs.advertiser_forms import errors_to_form

from . import stripe_billing
from .advertiser_views import AdvertiserMixin, IntegrationView
from .models_stripe import StripeIntegration
from .stripe_forms import StripeConnectForm, StripeSecretForm


class StripeIntegrationCreateView(IntegrationView):
    def post(self, request, *args, **kwargs):
        programs = program_selectors.programs_visible_to(network=self.network, membership=self.membership)
        form = StripeConnectForm(request.POST, programs=programs.order_by("id"))
        if form.is_valid():
            try:
                stripe_billing.stripe_integration_create(
                    network=self.network, advertiser=self.party, program_id=form.cleaned_data["program"],
                    signing_secret=form.cleaned_data["signing_secret"], actor=request.user)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, gettext("Stripe is connected: paste its webhook URL into Stripe."))
                return redirect(f"{_integration_path()}#stripe")
        return self.render_to_response(self.get_context_data(stripe_form=form), status=400)


class StripeIntegrationActionView(AdvertiserMixin, View):
    """secret (set or rotate), enable/disable, delete."""

    def post(self, request, pk, verb):
        integration = get_object_or_404(self.scoped(StripeIntegration).visible_to(self.membership), pk=pk)
        if verb == "delete":
            stripe_billing.stripe_integration_delete(network=self.network, integration=integration,
                                                     actor=request.user)
            messages.success(request, gettext("The Stripe integration is deleted; its URL answers 404."))
        elif verb == "secret":
            form = StripeSecretForm(request.POST)
            try:
                if not form.is_valid():
                    raise ValidationError({"signing_secret": [gettext("Paste the whsec_… secret.")]})
                stripe_billing.stripe_integration_rotate_secret(
                    network=self.network, integration=integration,
                    signing_secret=form.cleaned_data["signing_secret"], actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.message_dict.get("signing_secret", exc.messages)))
            else:
                messages.success(request, gettext("The signing secret is saved."))
        else:
            stripe_billing.stripe_integration_set_active(network=self.network, integration=integration,
                                                         active=verb == "enable", actor=request.user)
            messages.success(request, gettext("The Stripe integration is enabled.") if verb == "enable"
                             else gettext("The Stripe integration is disabled."))
        return redirect(f"{_integration_path()}#stripe")


def _integration_path() -> str:
    return reverse("advertiser_integration_full")
