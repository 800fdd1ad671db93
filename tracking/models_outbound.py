"""Outbound notifications: advertiser/operator webhook endpoints, deliveries and their attempts."""

import base64
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from network.models import Advertiser, Affiliate, TenantModel


def new_webhook_secret() -> str:
    # The Standard Webhooks form: "whsec_" + a base64 key (32 random bytes).
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(TenantModel):
    """An HTTPS endpoint that receives signed events. No advertiser: the network operators' endpoint."""

    party_fields = {"advertiser": "advertiser"}

    advertiser = models.ForeignKey(
        Advertiser, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=1000)
    # Event names ("conversion.created", ...) or ["*"] for all.
    events = models.JSONField(default=list)
    # Needed in clear to sign each delivery; shown to its owner once, on create.
    secret = models.CharField(max_length=80, default=new_webhook_secret)
    description = models.CharField(max_length=200, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return "*" in self.events or event in self.events


class Delivery(TenantModel):
    """One event sent to one target (a webhook endpoint or an affiliate's postback URL), with retries."""

    party_fields = {"advertiser": "advertiser", "affiliate": "affiliate"}

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Advertiser/operator webhook")
        POSTBACK = "postback", _("Affiliate postback")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    event = models.CharField(max_length=64)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # Who may read it: the endpoint's advertiser, the postback's affiliate; operators see all.
    advertiser = models.ForeignKey(Advertiser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    affiliate = models.ForeignKey(Affiliate, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    method = models.CharField(max_length=4, default="POST")
    # The exact JSON body (webhooks); signed at each attempt with a fresh timestamp.
    body = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response_excerpt = models.CharField(max_length=500, blank=True, default="")
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["network", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} -> {self.url} ({self.status})"


class DeliveryAttempt(TenantModel):
    """One HTTP attempt of a delivery: what the target answered and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    succeeded = models.BooleanField(default=False)
    # Seconds until the next try (exponential backoff); null when no retry follows.
    retry_in_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "id"]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"
