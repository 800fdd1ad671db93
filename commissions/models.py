"""Commissions (money owed for a conversion or for clicks) and the double-entry ledger behind them.

Amounts: a commission's `amount` (affiliate payout) and `revenue` (what the advertiser owes the network)
are quantized to the currency's minor units when the commission is created, so every ledger posting is
exact cents and a payout can never pay a fraction of a cent. Columns keep `core.money.AMOUNT_*` places.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from network.models import Advertiser, Affiliate, Network, TenantModel, TenantQuerySet, validate_currency
from programs.models import CommissionRule, Program
from tracking.models import DAY_KEY, PARTNER_DAY_KEY, ClickRollup, Conversion, DayFigures, PartnerDayFigures


def _amount(**kwargs):
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs)


class Commission(TenantModel):
    """What one affiliate earns for one conversion (tier 1), a referral override (tier 2), or a batch of clicks."""

    party_fields = {"advertiser": "advertiser", "affiliate": "affiliate"}

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending (hold period)")
        ON_HOLD = "on_hold", _("On hold for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REVERSED = "reversed", _("Reversed (refunded)")
        PAID = "paid", _("Paid")

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        LEAD = "lead", _("Lead")
        CLICK = "click", _("Clicks (CPC)")
        SECOND_TIER = "second_tier", _("Second-tier override")
        # The tier true-up of a period: the difference between the tier rate reached for the whole period and the
        # rate a commission was computed with (on `adjusts`, same conversion and tier).
        ADJUSTMENT = "adjustment", _("Tier adjustment")

    # The primary key (network_id, id) serves every look-up by network: no index of its own.
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # 1 = the converting affiliate; 2 = the affiliate who referred them (override on `parent`).
    tier = models.PositiveSmallIntegerField(default=1)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               db_index=False)
    # An adjustment (kind `adjustment`): the commission it adjusts. Refunds and rejections of that commission
    # reverse the adjustment with it, in the same proportion.
    adjusts = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments",
                                db_index=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="commissions", db_index=False)
    conversion = models.ForeignKey(Conversion, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="commissions")
    # CPC: the rollup row paid and the cumulative unique-click count this commission pays up to.
    rollup = models.ForeignKey(ClickRollup, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    clicks = models.PositiveBigIntegerField(default=0)
    clicks_upto = models.PositiveBigIntegerField(null=True, blank=True)
    rule = models.ForeignKey(CommissionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The rule as evaluated (kind, rate, revenue rate, tier reached...): later rule edits change nothing here.
    rule_snapshot = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    base_amount = _amount(default=0)  # the order amount a percent rule applied to
    amount = _amount()  # affiliate payout, quantized to minor units
    revenue = _amount()  # owed by the advertiser, quantized; revenue - amount = network margin
    reversed_amount = _amount(default=0)
    reversed_revenue = _amount(default=0)
    # Sum of refunds applied (conversion currency): reversals are cumulative, so rounding never drifts.
    refunded_base = _amount(default=0)
    reason = models.CharField(max_length=255, blank=True, default="")
    hold_until = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Computing a conversion twice never creates a second commission (NULL conversions: CPC rows).
            models.UniqueConstraint(fields=["conversion", "tier"], condition=~models.Q(kind="adjustment"),
                                    name="commission_unique_conversion_tier"),
            # One true-up per commission: a second run of the period's true-up adds nothing.
            models.UniqueConstraint(fields=["network", "adjusts"], name="commission_unique_adjustment"),
            models.UniqueConstraint(fields=["network", "rollup", "clicks_upto", "tier"],
                                    name="commission_unique_rollup_step"),
            models.CheckConstraint(condition=models.Q(amount__gte=0) & models.Q(revenue__gte=0),
                                   name="commission_amounts_not_negative"),
            models.CheckConstraint(condition=models.Q(reversed_amount__lte=models.F("amount")),
                                   name="commission_reversed_within_amount"),
        ]
        # Every index is paid on each of the commissions written (an import writes 100,000): no index here repeats
        # another's leading columns. The foreign keys to the affiliate, the adjusted commission and the rollup are
        # served by the indexes and unique keys that lead with (network, that column); the network's by the primary
        # key (network_id, id).
        indexes = [
            models.Index(fields=["network", "affiliate", "status"]),
            models.Index(fields=["network", "status", "hold_until"]),
            # The approval sweep over every network (`commissions_due`): only pending rows, not the whole history.
            models.Index(fields=["hold_until"], condition=models.Q(status="pending"), name="commission_pending_due"),
            # Children (second-tier overrides) of a commission: most commissions have none.
            models.Index(fields=["network", "parent"], condition=models.Q(parent__isnull=False),
                         name="commission_children"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.amount} {self.currency} ({self.status})"

    @property
    def remaining_amount(self):
        return self.amount - self.reversed_amount

    @property
    def remaining_revenue(self):
        return self.revenue - self.reversed_revenue


class TierTrueUp(TenantModel):
    """A closed tier period trued up for one affiliate in one program and event: what it reached, at which rate.
    Written once (its unique key makes the beat task skip the period afterwards)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=8)
    tier_period = models.CharField(max_length=10)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    conversions = models.PositiveIntegerField(default=0)  # counted: not rejected, not fully refunded
    amount = _amount(default=0)  # their sales net of refunds, in the program currency
    commissions = models.PositiveIntegerField(default=0)  # commissions of the period looked at
    adjusted = models.PositiveIntegerField(default=0)  # of them, how many changed (adjustment or reduction)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "program", "affiliate", "event", "tier_period", "period_start"],
                                    name="tier_trueup_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.affiliate_id} {self.event} {self.tier_period} {self.period_start:%Y-%m-%d}"


class CpcAccrual(TenantModel):
    """How many unique clicks of a rollup row have been paid, so late clicks pay only the increment."""

    rollup = models.OneToOneField(ClickRollup, on_delete=models.CASCADE, related_name="cpc_accrual")
    paid_clicks = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rollup {self.rollup_id}: {self.paid_clicks} paid"


class Account(TenantModel):
    """One ledger account per (network, currency, kind, party). Balance = debits - credits of its entries."""

    class Kind(models.TextChoices):
        ADVERTISER_RECEIVABLE = "advertiser_receivable", "Advertiser receivable"  # asset, per advertiser
        AFFILIATE_PENDING = "affiliate_pending", "Affiliate payable: pending"  # liability, per affiliate
        AFFILIATE_APPROVED = "affiliate_approved", "Affiliate payable: approved"  # liability, per affiliate
        PAYOUTS_CLEARING = "payouts_clearing", "Payouts clearing (in payment)"  # liability, per affiliate
        # Cash disbursed to the affiliate (credit balance = total paid): the contra side of confirmed payouts.
        AFFILIATE_PAID = "affiliate_paid", _("Affiliate paid (cash out)")
        NETWORK_REVENUE = "network_revenue", "Network revenue (margin)"  # income, one per network and currency

    currency = models.CharField(max_length=3, validators=[validate_currency])
    kind = models.CharField(max_length=24, choices=Kind.choices)
    advertiser = models.ForeignKey(Advertiser, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey(Affiliate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # "adv:<id>", "aff:<id>" or "" (network accounts): one unique key that treats "no party" as a value.
    party_key = models.CharField(max_length=32, blank=True, default="")
    # Cached sum of this account's entries, updated only by the posting service (tested equal to the sum).
    balance = _amount(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "currency", "kind", "party_key"], name="account_unique_party"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.party_key or 'network'} {self.currency}"


class Transaction(TenantModel):
    """A balanced group of ledger entries for one business event (kind + the object it concerns)."""

    kind = models.CharField(max_length=40)
    ref_type = models.CharField(max_length=60, blank=True, default="")
    ref_id = models.CharField(max_length=64, blank=True, default="")
    # Optional idempotency key: the same business event is never posted twice.
    key = models.CharField(max_length=120, null=True, blank=True)
    memo = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["network", "key"], name="ledger_transaction_unique_key")]
        indexes = [models.Index(fields=["network", "ref_type", "ref_id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref_type}:{self.ref_id}"


class ImmutableEntryError(Exception):
    """Ledger entries are written once by the posting service and never changed."""


class LedgerEntryQuerySet(TenantQuerySet):
    def update(self, **kwargs):
        raise ImmutableEntryError("Ledger entries cannot be updated.")

    def delete(self):
        raise ImmutableEntryError("Ledger entries cannot be deleted.")


class LedgerEntry(TenantModel):
    """One side of a transaction: a signed amount (debit > 0, credit < 0) on one account. Immutable."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    currency = models.CharField(max_length=3)
    amount = _amount()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = models.Manager.from_queryset(LedgerEntryQuerySet)()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        side = "DR" if self.amount >= 0 else "CR"
        return f"{side} {abs(self.amount)} {self.currency} {self.account}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ImmutableEntryError("Ledger entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEntryError("Ledger entries cannot be deleted.")


class CommissionSums(models.Model):
    """The commissions' sums of a day table, per currency, net of reversals: what the advertiser owes (`revenue`)
    and the affiliate earns (`payout`)."""

    day_sums = ("revenue", "payout")

    currency = models.CharField(max_length=3)
    revenue = _amount(default=0)
    payout = _amount(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} p{self.program_id} a{self.affiliate_id} {self.currency}"


class CommissionDay(DayFigures, CommissionSums):
    """Commissions not rejected per network-local day of their event (the conversion's; a CPC commission's clicks'
    hour; otherwise when it was written) and currency. Keyed by the commission's program and affiliate (a
    second-tier override counts for the referrer) and its conversion's (or clicks') sub IDs and country."""

    day_key = (*DAY_KEY, "currency")

    class Meta:
        # On PostgreSQL this key's index also carries revenue and payout (migration 0005: reports scan it alone).
        constraints = [models.UniqueConstraint(fields=(*DAY_KEY, "currency"), name="commission_day_unique")]


class CommissionDayChange(DayFigures, CommissionSums):
    """A difference to CommissionDay not folded in yet (network.daily; see tracking.ConversionDayChange)."""

    day_key = (*DAY_KEY, "currency")

    class Meta:
        indexes = [models.Index(fields=["network", "day"], name="commission_day_change_day")]


class CommissionPartnerDay(PartnerDayFigures, CommissionSums):
    """CommissionDay per partnership (see tracking.PartnerDayFigures)."""

    day_key = (*PARTNER_DAY_KEY, "currency")

    class Meta:
        constraints = [models.UniqueConstraint(fields=(*PARTNER_DAY_KEY, "currency"),
                                               name="commission_partner_day_unique")]


CommissionDay.changes = CommissionDayChange
CommissionDay.coarse = CommissionPartnerDay
