"""The partner portal's postback page: the affiliate's own postback URL template (SSRF-checked), a test fire,
and the delivery log with each delivery's attempts."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _

from network.views import PartnerPage
from network.web import paginate

from . import services
from .models_outbound import Delivery
from .outbound import POSTBACK_EVENTS, POSTBACK_MACROS, answer_words
from .serializers import postback_representation

MACRO_HELP = {
    "click_id": _("the click's id (from your landing URL)"),
    "sub1": _("sub ID 1 of the link or click"), "sub2": _("sub ID 2"), "sub3": _("sub ID 3"), "sub4": _("sub ID 4"),
    "sub5": _("sub ID 5"),
    "order_id": _("the advertiser's order id"),
    "amount": _("the order amount"),
    "payout": _("your commission"),
    "currency": _("ISO 4217 currency of amount and payout"),
    "status": _("pending, approved, rejected, reversed…"),
    "program_id": _("the program's id"),
    "event": _("the event that fired it (commission.approved, payout.paid…)"),
}
EVENT_LABELS = {
    "commission.created": _("Commission created (a new conversion)"),
    "commission.approved": _("Commission approved"),
    "commission.rejected": _("Commission rejected"),
    "commission.on_hold": _("Commission held for review"),
    "commission.released": _("Commission released from review"),
    "commission.reversed": _("Commission reversed (refund)"),
    "commission.partially_reversed": _("Commission partly reversed (partial refund)"),
    "commission.paid": _("Commission paid"),
    "payout.paid": _("Payout paid"),
    "payout.failed": _("Payout failed"),
}


class PostbackForm(forms.Form):
    postback_url = forms.CharField(
        label=_("Postback URL"), required=False, max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": _("https://tracker.example/postback?cid={click_id}&payout={payout}")}),
        help_text=_("Called (GET) for each commission event; leave empty to turn postbacks off."))
    events = forms.MultipleChoiceField(
        label=_("Fire it for"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(name, EVENT_LABELS.get(name, name)) for name in POSTBACK_EVENTS],
        help_text=_("None ticked: the commission events of your conversions."))


class PostbackPage(PartnerPage):
    def deliveries(self):
        return self.scoped(Delivery).visible_to(self.membership).filter(kind=Delivery.Kind.POSTBACK)


class PostbackView(PostbackPage):
    template_name = "partner/tracking_postback.html"

    def get_context_data(self, form=None, **kwargs):
        page = paginate(self.request, self.deliveries().order_by("-created_at", "-id"))
        return super().get_context_data(
            form=form or PostbackForm(initial=postback_representation(self.party)), page=page,
            macros=[(name, MACRO_HELP.get(name, "")) for name in POSTBACK_MACROS], **kwargs)

    def post(self, request, *args, **kwargs):
        form = PostbackForm(request.POST)
        if form.is_valid():
            try:
                services.affiliate_postback_set(network=self.network, affiliate=self.party,
                                                template=form.cleaned_data["postback_url"].strip(),
                                                events=form.cleaned_data["events"], actor=request.user)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"postback_url": exc.messages}
                for field, messages_ in errors.items():
                    for error in messages_:
                        form.add_error(field if field in form.fields else "postback_url", error)
            else:
                messages.success(request, _("Postback URL saved.") if form.cleaned_data["postback_url"]
                                 else _("Postbacks are off."))
                return redirect("partner_postback")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PostbackTestView(PostbackView):
    """POST: one call of the postback URL, answered on the page at once (code, time, the start of the body, and
    what it means), never queued nor retried."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            attempt = services.affiliate_postback_send_test(network=self.network, affiliate=self.party)
        except ValidationError as exc:
            return self.render_to_response(self.get_context_data(test_error=" ".join(exc.messages)), status=400)
        return self.render_to_response(self.get_context_data(test=test_fire_answer(attempt)))


def test_fire_answer(attempt) -> dict:
    """The test fire's answer as the page shows it."""
    words = attempt.error if attempt.status_code is None else answer_words(attempt.status_code)
    return {"ok": attempt.succeeded, "status_code": attempt.status_code, "latency_ms": attempt.latency_ms,
            "excerpt": (attempt.response_excerpt or "")[:200], "words": words, "url": attempt.delivery.url,
            "delivery": attempt.delivery}


class DeliveryView(PostbackPage):
    template_name = "partner/tracking_delivery.html"

    def get_context_data(self, pk, **kwargs):
        delivery = get_object_or_404(self.deliveries(), pk=pk)
        return super().get_context_data(delivery=delivery, attempts=delivery.attempt_log.all(), **kwargs)
