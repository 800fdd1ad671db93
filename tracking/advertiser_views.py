"""The advertiser's conversions (filters, detail with fraud signals, refunds) and integration page (API keys,
postback example, JS snippet, webhook endpoints with their deliveries)."""

from datetime import date
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from core.days import local_day_bounds
from core.money import parse_amount
from network.hosts import tracking_base_url
from network.models import Role
from network.templatetags.web import money
from network.views import ApiKeysView
from network.web import NetworkPageMixin, paginate
from programs import selectors as program_selectors
from programs.advertiser_forms import as_id, errors_to_form

from . import pixel, selectors, services
from .adjust_forms import AdjustForm, correction_read, line_forms
from .adjustments import conversion_adjust
from .events import ADVERTISER as ADVERTISER_AUDIENCE
from .events import TYPES
from .models import Conversion, RefundStatus, refund_status_q
from .models_outbound import WebhookEndpoint
from .outbound import EVENTS
from .sample_conversion import conversion_test_send
from .stripe_forms import stripe_section
from .webhook_views import DeliveryResendBase, WebhookActionBase, WebhookCreateMixin, WebhookDetailBase, WebhookPages

ADVERTISER = frozenset({Role.ADVERTISER})


class AdvertiserMixin(NetworkPageMixin):
    roles = ADVERTISER

    def conversions(self):
        return selectors.conversions_visible_to(network=self.network, membership=self.membership)

    def programs(self):
        return program_selectors.programs_visible_to(network=self.network, membership=self.membership)


def _day(value: str | None):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- conversions ------------------------------------------------------------------------------------
class ConversionListView(AdvertiserMixin, TemplateView):
    template_name = "advertiser/tracking_conversions.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        queryset = self.conversions().select_related("program", "affiliate")
        errors = {}
        for name in ("program", "affiliate"):
            if as_id(params.get(name)) is not None:
                queryset = queryset.filter(**{f"{name}_id": as_id(params[name])})
        if params.get("status") in Conversion.Status.values:
            queryset = queryset.filter(status=params["status"])
        if params.get("attribution") in Conversion.Attribution.values:
            queryset = queryset.filter(attribution=params["attribution"])
        if params.get("refund_status") in RefundStatus.values:
            queryset = queryset.filter(refund_status_q(params["refund_status"]))
        if params.get("order_id", "").strip():
            queryset = queryset.filter(order_id__icontains=params["order_id"].strip()[:128])
        tz = ZoneInfo(self.network.timezone)
        for name in ("date_from", "date_to"):
            day = _day(params.get(name))
            if params.get(name) and day is None:
                errors[name] = gettext("Use a date like 2026-05-31.")
            elif day and name == "date_from":
                queryset = queryset.filter(created_at__gte=local_day_bounds(day, tz=tz)[0])
            elif day:
                queryset = queryset.filter(created_at__lt=local_day_bounds(day, tz=tz)[1])
        return super().get_context_data(
            page=paginate(self.request, queryset), filter_errors=errors, programs=self.programs().order_by("name"),
            statuses=Conversion.Status.choices, attributions=Conversion.Attribution.choices,
            refund_statuses=RefundStatus.choices,
            unattributed=self.conversions().filter(attribution=Conversion.Attribution.NONE, is_test=False).count(),
            **kwargs)


class RefundForm(forms.Form):
    amount = forms.CharField(label=_("Amount"), required=False, help_text=_("Empty: refund all that remains."))


class ConversionDetailView(AdvertiserMixin, TemplateView):
    """One conversion with its fraud signals, the refund form and, before any refund, the correction form. Its
    commissions come from the page the commissions app routes (`commissions.conversion_views`): commissions sit
    above tracking."""

    template_name = "advertiser/tracking_conversion.html"

    def commissions_of(self, conversion: Conversion):
        return []

    def get_context_data(self, refund_form=None, adjust_form=None, adjust_lines=None, **kwargs):
        conversion = get_object_or_404(self.conversions().select_related("program", "affiliate", "link"),
                                       pk=self.kwargs["pk"])
        return super().get_context_data(
            conversion=conversion, remaining=conversion.amount - conversion.refunded_amount,
            commissions=self.commissions_of(conversion), refund_form=refund_form or RefundForm(),
            history=selectors.conversion_history(network=self.network, conversion=conversion),
            adjust_form=adjust_form or AdjustForm(),
            adjust_lines=adjust_lines if adjust_lines is not None else line_forms(conversion), **kwargs)

    def adjust(self, request, conversion):
        """The correction form: the new amount and/or lines (`add_line`: the form again with one more row)."""
        form = AdjustForm(request.POST)
        if "add_line" in request.POST:
            lines = line_forms(conversion, request.POST, more=1)
            return self.render_to_response(self.get_context_data(adjust_form=form, adjust_lines=lines))
        lines = line_forms(conversion, request.POST)
        read = correction_read(conversion, form, lines)
        if read is None:
            return self.render_to_response(self.get_context_data(adjust_form=form, adjust_lines=lines), status=400)
        amount, items = read
        try:
            conversion = conversion_adjust(network=self.network, conversion=conversion, amount=amount, items=items,
                                           actor=request.user)
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.render_to_response(self.get_context_data(adjust_form=form, adjust_lines=lines), status=400)
        messages.success(request, gettext("Order corrected to %(amount)s; its commissions are priced again.")
                         % {"amount": money(conversion.amount, conversion.currency)})
        return redirect("advertiser_conversion", pk=conversion.pk)

    def post(self, request, pk):
        conversion = get_object_or_404(self.conversions(), pk=pk)
        if request.POST.get("action") == "adjust":
            return self.adjust(request, conversion)
        form = RefundForm(request.POST)
        form.is_valid()
        raw = request.POST.get("amount", "").strip()
        amount = None
        if raw:
            try:
                amount = parse_amount(raw)
            except ValueError:
                form.add_error("amount", _('Enter an amount such as "10.00".'))
                return self.render_to_response(self.get_context_data(refund_form=form), status=400)
        try:
            _refund, refunded = services.conversion_refund(network=self.network, conversion=conversion, amount=amount,
                                                     actor=request.user)
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.render_to_response(self.get_context_data(refund_form=form), status=400)
        messages.success(request, gettext("Refunded %(amount)s; its commissions are reversed.")
                         % {"amount": money(refunded, conversion.currency)})
        return redirect("advertiser_conversion", pk=pk)


# --- integration ------------------------------------------------------------------------------------
class WebhookForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=1000, widget=forms.URLInput(attrs={"placeholder": _("https://")}))
    # The events an advertiser's endpoint receives (the operators' ones, e.g. payouts, never reach it).
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=[("*", _("Every event"))] + [(e, e) for e in EVENTS
                                          if e != "webhook.test" and TYPES[e].audience == ADVERTISER_AUDIENCE],
        widget=forms.CheckboxSelectMultiple, required=False)
    description = forms.CharField(label=_("Description"), required=False, max_length=200)


class IntegrationView(ApiKeysView):
    """The API-key page of the network app, with the postback example, the JS snippet and webhooks."""

    roles = ADVERTISER
    template_name = "advertiser/tracking_integration.html"

    def get_context_data(self, webhook_form=None, created_endpoint=None, stripe_form=None, **kwargs):
        programs = program_selectors.programs_visible_to(network=self.network, membership=self.membership)
        program = programs.filter(status="active").order_by("id").first() or programs.order_by("id").first()
        chosen = self.request.GET.get("program", "")
        if chosen.isdigit() and len(chosen) < 19:  # the snippet for this program (its window and attribution model)
            program = programs.filter(pk=int(chosen)).first() or program
        endpoints = self.scoped(WebhookEndpoint).visible_to(self.membership)
        return super().get_context_data(
            program=program, currency=program.currency if program else self.network.default_currency,
            # The snippet and the pixel load from the tracking domain, like the links.
            track_js=self.tracking_base() + static("js/track.js"),
            conversions_url=self.request.build_absolute_uri("/api/v1/conversions"),
            pixel_url=self.pixel_url(),
            endpoints=endpoints.order_by("-created_at", "-id"),
            webhook_form=webhook_form or WebhookForm(initial={"events": ["*"]}),
            created_endpoint=created_endpoint, **stripe_section(self, stripe_form), **kwargs)


    def tracking_base(self) -> str:
        return tracking_base_url(network_id=self.network.pk, advertiser_id=self.party.pk)

    def pixel_url(self) -> str:
        token = pixel.pixel_token_get(network=self.network, advertiser=self.party)
        url = self.tracking_base() + "/api/v1/conversions/pixel"
        return f"{url}?token={token}&order_id=ORDER-1001&amount=49.90&currency={self.network.default_currency}"


class TestConversionView(AdvertiserMixin, View):
    """The Integration page's one button: a marked test conversion through the recording service (no money: see
    tracking.sample_conversion), then the page again with what was recorded."""

    def post(self, request):
        recorded = conversion_test_send(network=self.network, advertiser=self.party, actor=request.user)
        messages.success(request, gettext(
            "Test conversion %(order)s recorded: it is in your conversions list, marked TEST, unattributed and "
            "without commission.") % {"order": recorded.conversion.order_id})
        return redirect(reverse("advertiser_integration") + "#test-conversion")


class PixelTokenRotateView(AdvertiserMixin, View):
    def post(self, request):
        pixel.pixel_token_rotate(network=self.network, advertiser=self.party, actor=request.user)
        messages.success(request, _("The pixel has a new token: update the pixel on your pages; the old one no longer "
                                  "records sales."))
        return redirect("advertiser_integration")


class AdvertiserWebhookPages(WebhookPages):
    list_url = "advertiser_integration"
    detail_url = "advertiser_webhook"

    def webhook_owner(self):
        return self.party


class WebhookCreateView(AdvertiserWebhookPages, WebhookCreateMixin, IntegrationView):
    form_class = WebhookForm
    form_context_name = "webhook_form"


class WebhookDetailView(AdvertiserWebhookPages, AdvertiserMixin, WebhookDetailBase):
    template_name = "advertiser/tracking_webhook.html"


class WebhookActionView(AdvertiserWebhookPages, AdvertiserMixin, WebhookActionBase):
    pass


class DeliveryResendView(AdvertiserWebhookPages, AdvertiserMixin, DeliveryResendBase):
    pass
