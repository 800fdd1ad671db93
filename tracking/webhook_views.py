"""The webhook endpoint pages every party shares (an operator's: the network's and the advertisers' endpoints; an
advertiser's: its own): create from a form, an endpoint with its deliveries, test/enable/disable/delete, resend.
Each party's module gives its pages' mixin (who sees what) and the names of its list and endpoint pages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.views import View
from django.views.generic import TemplateView

from network.web import paginate
from programs.advertiser_forms import errors_to_form

from . import services
from .models_outbound import Delivery, WebhookEndpoint
from .outbound import delivery_resend


class WebhookPages:
    """The endpoints and deliveries the membership may see; where a party's list and endpoint pages are."""

    list_url = ""  # the page the endpoints are listed (and created) on
    detail_url = ""  # one endpoint's page

    def endpoints(self):
        return self.scoped(WebhookEndpoint).visible_to(self.membership).select_related("advertiser")

    def deliveries(self):
        return self.scoped(Delivery).visible_to(self.membership).filter(kind=Delivery.Kind.WEBHOOK)

    def webhook_owner(self):
        """The advertiser a new endpoint belongs to (None: the network's own)."""
        return None


class WebhookCreateMixin(WebhookPages):
    """POST a new endpoint: the page again with its secret (shown in this response only), or the form's errors."""

    form_class = None
    form_context_name = "form"

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(
                    network=self.network, advertiser=self.webhook_owner(), url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"], description=form.cleaned_data["description"],
                    actor=request.user)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                return self.render_to_response(self.get_context_data(created_endpoint=endpoint))
        return self.render_to_response(self.get_context_data(**{self.form_context_name: form}), status=400)


class WebhookDetailBase(WebhookPages, TemplateView):
    def get_context_data(self, **kwargs):
        endpoint = get_object_or_404(self.endpoints(), pk=self.kwargs["pk"])
        deliveries = self.deliveries().filter(endpoint=endpoint).order_by("-created_at", "-id")
        return super().get_context_data(endpoint=endpoint, page=paginate(self.request, deliveries), **kwargs)


class WebhookActionBase(WebhookPages, View):
    """test (a signed webhook.test; refused on a disabled endpoint), enable/disable, delete."""

    def post(self, request, pk, verb):
        endpoint = get_object_or_404(self.endpoints(), pk=pk)
        if verb == "delete":
            services.webhook_endpoint_delete(network=self.network, endpoint=endpoint, actor=request.user)
            messages.success(request, gettext("The webhook to %(url)s is deleted.") % {"url": endpoint.url})
            return redirect(self.list_url)
        if verb == "test":
            try:
                services.webhook_endpoint_send_test(network=self.network, endpoint=endpoint)
            except ValidationError as exc:
                # A clear refusal on the page it came from (a disabled endpoint gets no event, a test neither).
                messages.error(request, exc.messages[0])
                return redirect(self.detail_url, pk=pk)
            messages.success(request, gettext("A webhook.test event is on its way; its delivery is listed below."))
        else:
            services.webhook_endpoint_update(network=self.network, endpoint=endpoint, actor=request.user,
                                             is_active=verb == "enable")
            messages.success(request, gettext("The webhook is enabled.") if verb == "enable"
                             else gettext("The webhook is disabled."))
        return redirect(self.detail_url, pk=pk)


class DeliveryResendBase(WebhookPages, View):
    def post(self, request, pk):
        delivery = get_object_or_404(self.deliveries(), pk=pk)
        delivery_resend(network=self.network, delivery=delivery, actor=request.user)
        messages.success(request, gettext("Delivery #%(delivery_id)s (%(event)s) is queued again.") % {
            "delivery_id": delivery.pk, "event": delivery.event})
        if delivery.endpoint_id:
            return redirect(self.detail_url, pk=delivery.endpoint_id)
        return redirect(self.list_url)
