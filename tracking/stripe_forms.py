"""Forms and page context of the Stripe billing section of the advertiser's integration page."""

from django import forms
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from programs import selectors as program_selectors

from .api_stripe import webhook_url
from .models_stripe import StripeEvent, StripeIntegration

RECENT_EVENTS = 10


class StripeConnectForm(forms.Form):
    program = forms.TypedChoiceField(label=gettext_lazy("Program"), coerce=int)
    signing_secret = forms.CharField(
        label=gettext_lazy("Signing secret (optional now)"), required=False, max_length=200,
        widget=forms.PasswordInput(attrs={"placeholder": _("whsec_…"), "autocomplete": "off"}),
        help_text=gettext_lazy("Stripe shows it once the endpoint exists: you may add it afterwards."))

    def __init__(self, *args, programs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(program.pk, program.name) for program in programs]


class StripeSecretForm(forms.Form):
    signing_secret = forms.CharField(label=gettext_lazy("New signing secret"), max_length=200,
                                     widget=forms.PasswordInput(attrs={"placeholder": _("whsec_…"),
                                                                       "autocomplete": "off"}))


def stripe_section(view, connect_form=None) -> dict:
    """The section's context for the integration page: each integration with its URL and latest events."""
    integrations = list(view.scoped(StripeIntegration).visible_to(view.membership).select_related("program")
                        .order_by("id"))
    events = StripeEvent.objects.for_network(view.network).filter(integration__in=integrations)
    for integration in integrations:
        integration.url = webhook_url(view.request, integration)
        integration.recent = list(events.filter(integration=integration)[:RECENT_EVENTS])
    programs = program_selectors.programs_visible_to(network=view.network, membership=view.membership)
    return {"stripe_integrations": integrations,
            "stripe_form": connect_form or StripeConnectForm(programs=programs.order_by("id")),
            "stripe_secret_form": StripeSecretForm()}
