"""Payouts: how affiliates get paid (methods, tax details), the batches that pay them and each payout's state.

A Payout's `amount` is what left the affiliate's approved balance (gross, whole minor units); `fee` is the
network's payout fee and `net` what the provider sends (amount - fee when the affiliate pays the fee).
"""

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import words
from core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from network.models import Affiliate, TenantModel, User, validate_currency


def _amount(**kwargs):
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs)


class MethodKind(models.TextChoices):
    STRIPE_CONNECT = "stripe_connect", _("Stripe Connect")
    PAYPAL = "paypal", _("PayPal")
    BANK = "bank", _("Bank transfer")


class PayoutMethod(TenantModel):
    """Where an affiliate wants its money. One per affiliate is the default (a partial unique index)."""

    party_fields = {"affiliate": "affiliate"}

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="payout_methods")
    kind = models.CharField(max_length=16, choices=MethodKind.choices)
    is_default = models.BooleanField(default=False)
    label = models.CharField(max_length=80, blank=True, default="")
    # Stripe Connect: the connected (Express) account; onboarded once Stripe says payouts are enabled.
    stripe_account_id = models.CharField(max_length=64, blank=True, default="")
    stripe_onboarded = models.BooleanField(default=False)
    # The connected account's state as Stripe last told it (account.updated, or read on the way back from the
    # onboarding): details_submitted, payouts_enabled, transfers, currently_due, disabled_reason, country, at.
    stripe_account_state = models.JSONField(default=dict, blank=True)
    paypal_email = models.EmailField(blank=True, default="")
    bank_holder = models.CharField(max_length=120, blank=True, default="")
    bank_account = models.CharField(max_length=64, blank=True, default="")  # IBAN or account number
    bank_bic = models.CharField(max_length=34, blank=True, default="")  # BIC/SWIFT or routing number
    bank_country = models.CharField(max_length=2, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate"], condition=Q(is_default=True),
                                    name="payout_method_one_default"),
            models.UniqueConstraint(fields=["affiliate"], condition=Q(kind="stripe_connect"),
                                    name="payout_method_one_stripe_account"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.affiliate_id}{' (default)' if self.is_default else ''}"

    @property
    def stripe_state(self) -> dict:
        """The stored account state with its time as a datetime (`at`); empty when Stripe told nothing yet."""
        state = dict(self.stripe_account_state or {})
        if state.get("at"):
            try:
                state["at"] = datetime.fromisoformat(state["at"])
            except (TypeError, ValueError):
                state.pop("at")
        return state

    def snapshot(self) -> dict:
        """The details a payout keeps, so later edits of the method never change where a payout went."""
        data = {"id": self.pk, "kind": self.kind}
        if self.kind == MethodKind.STRIPE_CONNECT:
            data |= {"stripe_account_id": self.stripe_account_id}
        elif self.kind == MethodKind.PAYPAL:
            data |= {"paypal_email": self.paypal_email}
        else:
            data |= {"bank_holder": self.bank_holder, "bank_account": self.bank_account, "bank_bic": self.bank_bic,
                     "bank_country": self.bank_country}
        return data


def tax_form_path(instance, filename: str) -> str:
    # Unguessable names: the form holds personal data and must never be found by guessing a URL.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"tax-forms/{instance.network_id}/{uuid.uuid4().hex}.{suffix}"


class TaxDetails(TenantModel):
    """An affiliate's tax identity (placeholder for a tax provider): legal name, country, tax id, W-9/W-8BEN."""

    party_fields = {"affiliate": "affiliate"}

    class FormType(models.TextChoices):
        NONE = "", _("None")
        W9 = "w9", _("W-9")
        W8BEN = "w8ben", _("W-8BEN")
        W8BENE = "w8bene", _("W-8BEN-E")

    affiliate = models.OneToOneField(Affiliate, on_delete=models.CASCADE, related_name="tax_details")
    legal_name = models.CharField(max_length=200, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    tax_id = models.CharField(max_length=40, blank=True, default="")
    form_type = models.CharField(max_length=8, choices=FormType.choices, blank=True, default="")
    form_file = models.FileField(upload_to=tax_form_path, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "tax details"

    def __str__(self) -> str:
        return f"Tax details of {self.affiliate_id}"


class PayoutBatch(TenantModel):
    """One payout run. A resumable state machine: gathering -> paying -> processing -> completed.

    gathering  payouts are written one (affiliate, currency) at a time, each with its ledger posting
    paying     each pending payout is sent through its method (Stripe transfer, or queued for the CSV)
    processing every payout was sent; waiting for the provider's webhook or the operator's marks
    completed  every payout is paid or failed
    Only one batch per network may be gathering or paying (a partial unique index).
    """

    class Status(models.TextChoices):
        GATHERING = "gathering", _("Gathering balances")
        PAYING = "paying", _("Paying")
        PROCESSING = "processing", _("Awaiting confirmation")
        COMPLETED = "completed", _("Completed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")

    RUNNING = (Status.GATHERING, Status.PAYING)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.GATHERING, db_index=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    # "weekly:2026-W48" / "monthly:2026-11" for scheduled runs (one per period); null for manual runs.
    period_key = models.CharField(max_length=32, null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Progress: payouts written, and how many left `pending` (sent to the provider or queued for its CSV).
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # Balances left where they are, with why: [{"affiliate", "currency", "amount", "reason"}].
    skipped = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "payout batches"
        constraints = [
            models.UniqueConstraint(fields=["network"], condition=Q(status__in=["gathering", "paying"]),
                                    name="payout_batch_one_running"),
            models.UniqueConstraint(fields=["network", "period_key"], name="payout_batch_one_per_period"),
        ]

    def __str__(self) -> str:
        return f"Batch #{self.pk} ({self.status})"


class Payout(TenantModel):
    """What one affiliate is paid in one currency by one batch: pending -> processing -> paid | failed."""

    party_fields = {"affiliate": "affiliate"}

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        # Not sent: the method cannot be used (Stripe Connect without a Stripe key). Money stays in clearing and
        # the batch does not wait for it; the operator marks it paid (paid by hand), switches it to the
        # affiliate's PayPal/bank method (-> processing) or marks it failed (money back).
        ON_HOLD = "on_hold", _("On hold: needs the operator")

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="payouts")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="payouts")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    amount = _amount()
    fee = _amount(default=0)
    net = _amount()
    fee_paid_by = models.CharField(max_length=10, default="affiliate")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    method = models.ForeignKey(PayoutMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method_kind = models.CharField(max_length=16, choices=MethodKind.choices)
    method_snapshot = models.JSONField(default=dict, blank=True)
    # The commissions this payout marked paid (marked unpaid again if it fails).
    commission_ids = models.JSONField(default=list, blank=True)
    # Stripe transfer id (tr_...) once created; the provider's reference for CSV payouts.
    provider_reference = models.CharField(max_length=120, blank=True, default="")
    provider_status = models.CharField(max_length=60, blank=True, default="")
    # Set (and committed) just before the provider is called: a re-run first looks for what that call did.
    attempted_at = models.DateTimeField(null=True, blank=True)
    # Bumped when Stripe refused the idempotency key (idempotency_error): the next attempt uses a new key.
    transfer_attempt = models.PositiveSmallIntegerField(default=0)
    # `failure_reason` in English (the API's and webhooks'); `failure_words` the same as a msgid and parameters
    # (core.words) for pages and e-mails in the reader's language. Older rows have the English text only.
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    failure_words = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "batch", "affiliate", "currency"],
                                    name="payout_unique_per_batch"),
            models.UniqueConstraint(fields=["provider_reference"], condition=~Q(provider_reference=""),
                                    name="payout_unique_provider_reference"),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(net__gte=0) & Q(fee__gte=0),
                                   name="payout_amounts_positive"),
        ]
        indexes = [models.Index(fields=["network", "affiliate", "status"])]

    def __str__(self) -> str:
        return f"Payout #{self.pk} {self.amount} {self.currency} ({self.status})"

    @property
    def failure_text(self) -> str:
        """Why it failed (or is on hold), in the active language."""
        return words.shown(self.failure_words, self.failure_reason)

    @property
    def reference(self) -> str:
        """Our id for the payout at the provider (PayPal Customer ID, bank reference, Stripe transfer_group)."""
        return f"payout-{self.pk}"

    @property
    def transfer_idempotency_key(self) -> str:
        """The Stripe transfer's idempotency key: the reference on the first attempt, then one per attempt."""
        return self.reference if not self.transfer_attempt else f"{self.reference}-attempt-{self.transfer_attempt}"


class StripeEvent(models.Model):
    """Stripe webhook events already handled (Stripe delivers at least once). Not tenant-owned: one endpoint."""

    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=80)
    # No database constraint: this table is replicated to every node (a reference table under Citus) and may not
    # point at a distributed one; the payout is found by its id and the event's network-free Stripe transfer.
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_constraint=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
