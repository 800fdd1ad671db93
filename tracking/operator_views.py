"""The operators' webhook endpoints page: the network's signed webhooks (every event type, payouts included) and
the advertisers' ones, with their deliveries, a test event, enable/disable, delete and resend."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from network.permissions import OPERATORS
from network.web import NetworkPageMixin, paginate
from programs.advertiser_forms import errors_to_form

from . import services
from .models_outbound import Delivery, WebhookEndpoint
from .outbound import EVENTS, delivery_resend


class OperatorWebhookForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=1000, widget=forms.URLInput(attrs={"placeholder": "https://"}))
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=[("*", _("Every event"))] + [(e, e) for e in EVENTS if e != "webhook.test"],
        widget=forms.CheckboxSelectMultiple, required=False)
    description = forms.CharField(label=_("Description"), required=False, max_length=200)


class OperatorWebhookMixin(NetworkPageMixin):
    roles = OPERATORS

    def endpoints(self):
        return self.scoped(WebhookEndpoint).visible_to(self.membership).select_related("advertiser")

    def deliveries(self):
        return self.scoped(Delivery).visible_to(self.membership).filter(kind=Delivery.Kind.WEBHOOK)


class WebhookListView(OperatorWebhookMixin, TemplateView):
    template_name = "operator/webhooks.html"

    def get_context_data(self, form=None, created_endpoint=None, **kwargs):
        return super().get_context_data(
            endpoints=self.endpoints().order_by("-created_at", "-id"),
            form=form or OperatorWebhookForm(initial={"events": ["*"]}), created_endpoint=created_endpoint,
            **kwargs)

    def post(self, request, *args, **kwargs):
        form = OperatorWebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(
                    network=self.network, advertiser=None, url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"], description=form.cleaned_data["description"],
                    actor=request.user)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                # The secret is shown in this response only.
                return self.render_to_response(self.get_context_data(created_endpoint=endpoint))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class WebhookDetailView(OperatorWebhookMixin, TemplateView):
    template_name = "operator/webhook.html"

    def get_context_data(self, **kwargs):
        endpoint = get_object_or_404(self.endpoints(), pk=self.kwargs["pk"])
        deliveries = self.deliveries().filter(endpoint=endpoint).order_by("-created_at", "-id")
        return super().get_context_data(endpoint=endpoint, page=paginate(self.request, deliveries), **kwargs)


class WebhookActionView(OperatorWebhookMixin, View):
    """test (a signed webhook.test; refused on a disabled endpoint), enable/disable, delete."""

    def post(self, request, pk, verb):
        endpoint = get_object_or_404(self.endpoints(), pk=pk)
        if verb == "delete":
            services.webhook_endpoint_delete(network=self.network, endpoint=endpoint, actor=request.user)
            messages.success(request, gettext("The webhook to %(url)s is deleted.") % {"url": endpoint.url})
            return redirect("operator_webhooks")
        if verb == "test":
            try:
                services.webhook_endpoint_send_test(network=self.network, endpoint=endpoint)
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
                return redirect("operator_webhook", pk=pk)
            messages.success(request, gettext("A webhook.test event is on its way; its delivery is listed below."))
        else:
            services.webhook_endpoint_update(network=self.network, endpoint=endpoint, actor=request.user,
                                             is_active=verb == "enable")
            messages.success(request, gettext("The webhook is enabled.") if verb == "enable"
                             else gettext("The webhook is disabled."))
        return redirect("operator_webhook", pk=pk)


class DeliveryResendView(OperatorWebhookMixin, View):
    def post(self, request, pk):
        delivery = get_object_or_404(self.deliveries(), pk=pk)
        delivery_resend(network=self.network, delivery=delivery, actor=request.user)
        messages.success(request, gettext("Delivery #%(id)s (%(event)s) is queued again.")
                         % {"id": delivery.pk, "event": delivery.event})
        return redirect("operator_webhook", pk=delivery.endpoint_id) if delivery.endpoint_id else redirect(
            "operator_webhooks")
