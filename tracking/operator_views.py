"""The operators' webhook endpoints page: the network's signed webhooks (every event type, payouts included) and
the advertisers' ones, with their deliveries, a test event, enable/disable, delete and resend."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from network.permissions import OPERATORS
from network.web import NetworkPageMixin

from .outbound import EVENTS
from .webhook_views import DeliveryResendBase, WebhookActionBase, WebhookCreateMixin, WebhookDetailBase, WebhookPages


class OperatorWebhookForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=1000, widget=forms.URLInput(attrs={"placeholder": "https://"}))
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=[("*", _("Every event"))] + [(e, e) for e in EVENTS if e != "webhook.test"],
        widget=forms.CheckboxSelectMultiple, required=False)
    description = forms.CharField(label=_("Description"), required=False, max_length=200)


class OperatorWebhookMixin(WebhookPages, NetworkPageMixin):
    roles = OPERATORS
    list_url = "operator_webhooks"
    detail_url = "operator_webhook"


class WebhookListView(OperatorWebhookMixin, WebhookCreateMixin, TemplateView):
    template_name = "operator/webhooks.html"
    form_class = OperatorWebhookForm

    def get_context_data(self, form=None, created_endpoint=None, **kwargs):
        return super().get_context_data(
            endpoints=self.endpoints().order_by("-created_at", "-id"),
            form=form or OperatorWebhookForm(initial={"events": ["*"]}), created_endpoint=created_endpoint,
            **kwargs)


class WebhookDetailView(OperatorWebhookMixin, WebhookDetailBase):
    template_name = "operator/webhook.html"


class WebhookActionView(OperatorWebhookMixin, WebhookActionBase):
    pass


class DeliveryResendView(OperatorWebhookMixin, DeliveryResendBase):
    pass
