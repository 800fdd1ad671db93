"""Stripe billing integrations: an advertiser's Stripe account sends its payments, renewals and refunds here,
each becoming a conversion. One integration per webhook URL (its token), the customers it linked to clicks, and
the log of every event it received."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from core import words
from core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from network.models import Advertiser, TenantModel
from programs.models import Program


def new_integration_token() -> str:
    # In the webhook URL: it names the integration (and so the signing secret) before the signature is checked.
    return secrets.token_urlsafe(24)


class StripeIntegration(TenantModel):
    """An advertiser's Stripe account, reporting to one program. The signing secret is the merchant's own
    (`whsec_...` from their Stripe dashboard), kept in clear to verify each event, never shown back."""

    party_fields = {"advertiser": "advertiser"}

    advertiser = models.ForeignKey(Advertiser, on_delete=models.CASCADE, related_name="stripe_integrations")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, default=new_integration_token)
    # Blank until the merchant sends it: Stripe shows the secret only once the endpoint (our URL) exists there.
    signing_secret = models.CharField(max_length=200, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["network", "token"], name="stripe_integration_unique_token")]
        indexes = [models.Index(fields=["token"], name="tracking_stripe_token")]

    def __str__(self) -> str:
        return f"Stripe -> {self.program_id}"

    @property
    def signing_secret_hint(self) -> str:
        return f"whsec_…{self.signing_secret[-4:]}" if self.signing_secret else ""


class StripeCustomer(TenantModel):
    """A Stripe customer linked to the click that brought them (from Checkout), so their invoices are attributed."""

    integration = models.ForeignKey(StripeIntegration, on_delete=models.CASCADE, related_name="customers")
    customer_id = models.CharField(max_length=128)
    click_id = models.CharField(max_length=26, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "integration", "customer_id"],
                                               name="stripe_customer_unique")]

    def __str__(self) -> str:
        return self.customer_id


class StripeEvent(TenantModel):
    """One event Stripe delivered (verified): what it was and what it did. Unique per integration and event id, so
    Stripe's retries and replays have one effect."""

    party_fields = {"advertiser": "integration__advertiser"}

    class Result(models.TextChoices):
        CONVERSION = "conversion", _("Conversion recorded")
        RENEWAL = "renewal", _("Renewal recorded")
        REFUND = "refund", _("Refund recorded")
        LINKED = "linked", _("Customer linked to a click")
        RECORDED = "recorded", _("Recorded (no effect on money)")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    integration = models.ForeignKey(StripeIntegration, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    # The Stripe object the event is about (cs_..., in_..., ch_..., sub_...), and the ids a refund looks up by.
    object_id = models.CharField(max_length=255, blank=True, default="")
    customer_id = models.CharField(max_length=128, blank=True, default="")
    payment_intent = models.CharField(max_length=255, blank=True, default="")
    charge = models.CharField(max_length=255, blank=True, default="")
    result = models.CharField(max_length=12, choices=Result.choices)
    # `error` in English (the API's); `error_words` the same messages as msgids and parameters (core.words), for
    # pages in the reader's language. Events recorded before it have the English text only.
    error = models.CharField(max_length=500, blank=True, default="")
    error_words = models.JSONField(default=list, blank=True)
    conversion = models.ForeignKey("tracking.Conversion", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, null=True,
                                 blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    livemode = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["network", "integration", "event_id"],
                                               name="stripe_event_unique")]
        indexes = [models.Index(fields=["integration", "payment_intent"], name="tracking_stripe_event_pi")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.result})"

    @property
    def error_text(self) -> str:
        """The error in the active language (a page's)."""
        return words.shown(self.error_words, self.error)
