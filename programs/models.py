"""Programs (offers), their commission rules, creatives, coupons, partnerships and tracking links."""

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from core.storage import public_storage
from network.models import Advertiser, Affiliate, Network, PartnerGroup, TenantModel, User, validate_currency

from .targeting import targeting_lines, validate_targeting

VELOCITY_MAX_WINDOW_MINUTES = 24 * 60


class Program(TenantModel):
    """An advertiser's offer that affiliates promote."""

    # Affiliates: the programs they partner in (any status); the marketplace widens this (programs.selectors).
    party_fields = {"advertiser": "advertiser", "affiliate": "partnerships__affiliate"}

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ARCHIVED = "archived", _("Archived")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public (marketplace)")
        INVITE = "invite", _("Invite only")

    class Approval(models.TextChoices):
        AUTO = "auto", _("Automatic")
        MANUAL = "manual", _("Manual")

    class AttributionModel(models.TextChoices):
        LAST_CLICK = "last_click", _("Last click")
        FIRST_CLICK = "first_click", _("First click")

    class FraudPolicy(models.TextChoices):
        RECORD = "record", _("Record only")
        HOLD = "hold", _("Hold for review")
        REJECT = "reject", _("Reject")

    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    landing_url = models.URLField(max_length=2000)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    # Host names deep links may point to (the landing URL's host is always allowed); "*.shop.test" allows subdomains.
    allowed_domains = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    approval = models.CharField(max_length=16, choices=Approval.choices, default=Approval.MANUAL)
    attribution_window_days = models.PositiveIntegerField(default=30, validators=[MaxValueValidator(365)])
    # Which of a visitor's clicks on the program within the window earns a conversion: the one the order reports
    # (last click) or the visitor's first (tracking.attribution.first_click_before).
    attribution_model = models.CharField(max_length=12, choices=AttributionModel.choices,
                                         default=AttributionModel.LAST_CLICK)
    hold_days = models.PositiveIntegerField(default=30, validators=[MaxValueValidator(365)])
    fallback_url = models.URLField(max_length=2000, blank=True, default="")
    second_tier_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    fraud_policy = models.CharField(max_length=16, choices=FraudPolicy.choices, default=FraudPolicy.HOLD)
    # IP velocity: a click is flagged when one visitor (IP hash) clicked this program's links more than
    # `velocity_max_clicks` times within `velocity_window_minutes` (this click included); 0 turns it off.
    # 10 an hour is well above a real buyer's comparing and coming back, well below a click farm's rate.
    velocity_max_clicks = models.PositiveIntegerField(default=10, validators=[MaxValueValidator(100_000)])
    velocity_window_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(VELOCITY_MAX_WINDOW_MINUTES)])
    terms = models.TextField(blank=True, default="")
    # Where clicks may come from (programs.targeting): {"countries_allowed": [...], "countries_blocked": [...],
    # "devices": [...]}; empty lists restrict nothing. A click outside goes to the fallback URL (or the landing page)
    # without a click id, and its conversions earn nothing.
    targeting = models.JSONField(default=dict, blank=True, validators=[validate_targeting])
    # Caps and budget (programs.caps): {"conversions_day", "conversions_month", "payout_month", "action"}; null: none.
    caps = models.JSONField(null=True, blank=True, default=None)
    # Set when a cap whose action is `pause` is reached: the redirect sends visitors to the fallback URL until then
    # (the end of the cap's period, UTC).
    caps_paused_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["network", "status", "visibility"])]

    def __str__(self) -> str:
        return self.name

    @property
    def targeting_lines(self) -> list[str]:
        return targeting_lines(self.targeting)


# Tier maths: pure functions of a rule's terms (or of a commission's snapshot of them). Rule *selection* and tier
# *progress* are commissions' (commissions/rules.py); these live with the rule so the marketplace (programs) and the
# computation and true-up (commissions) share them without an import running up the layers.
def tier_threshold(tier: dict) -> Decimal:
    """A tier's threshold: `min_conversions` (basis conversions) or `min_amount` (basis amount)."""
    return Decimal(str(tier["min_amount"] if "min_amount" in tier else tier["min_conversions"]))


def tier_level(tiers: list | None, reached) -> int:
    """How many tiers (ascending by threshold) `reached` meets: 0 below every tier."""
    reached = Decimal(str(reached))
    return sum(1 for tier in tiers or [] if reached >= tier_threshold(tier))


def tier_rate(*, payout, tiers: list | None, reached) -> Decimal:
    """The rate of the highest tier whose threshold `reached` (conversions or sales in the period) meets; below
    every tier, `payout`."""
    level = tier_level(tiers, reached)
    return Decimal(str(sorted(tiers, key=tier_threshold)[level - 1]["payout"] if level else payout))


class CommissionRule(TenantModel):
    """What an event pays. Precedence: a rule for one affiliate > for its group > the default."""

    class Event(models.TextChoices):
        SALE = "sale", _("Sale")
        LEAD = "lead", _("Lead")
        CLICK = "click", _("Click")

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percent of the order amount")
        FIXED = "fixed", _("Fixed amount")

    class TierPeriod(models.TextChoices):
        MONTH = "month", _("Calendar month")
        WEEK = "week", _("ISO week")
        LIFETIME = "lifetime", _("All time")

    class TierBasis(models.TextChoices):
        CONVERSIONS = "conversions", _("Conversions in the period")
        AMOUNT = "amount", _("Sales amount in the period")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rules")
    event = models.CharField(max_length=8, choices=Event.choices, default=Event.SALE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # What the affiliate earns (percent or amount in the program's currency).
    payout = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    # What the advertiser pays the network; the difference is the network's margin. Null: same as payout.
    revenue = models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, null=True, blank=True
    )
    # [{"min_conversions": 10, "payout": "12"}] (basis conversions) or [{"min_amount": "5000", "payout": "12"}] (basis
    # amount), ascending; the affiliate's conversions (or sales) in the period that were not rejected or refunded
    # pick the tier, and the period's true-up pays every commission of the period at the tier reached.
    tiers = models.JSONField(default=list, blank=True)
    tier_period = models.CharField(max_length=10, choices=TierPeriod.choices, default=TierPeriod.MONTH)
    tier_basis = models.CharField(max_length=12, choices=TierBasis.choices, default=TierBasis.CONVERSIONS)
    # Subscription renewals: 0 = first payment only, N = renewals within N months, null = forever.
    recurring_months = models.PositiveIntegerField(null=True, blank=True, default=0)
    affiliate = models.ForeignKey(Affiliate, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A group's rule: the program's default for the group's affiliates. A group with rules cannot be deleted.
    group = models.ForeignKey(PartnerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="rules")
    # Product-level rate: {"sku": [...]} or {"category": [...]} pays the conversion's items that match (each item
    # by its own rule); {} is the program's rule for the whole order and for the items no rule matches.
    match = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.program_id}:{self.event} {self.kind} {self.payout}"

    def matches(self, item: dict) -> bool:
        """Whether this product rule pays `item` (a conversion's item: its sku or category is listed)."""
        for key, values in (self.match or {}).items():
            value = item.get(key)
            if isinstance(value, str) and value.strip().casefold() in {v.casefold() for v in values}:
                return True
        return False


class Partnership(TenantModel):
    """An affiliate in a program."""

    party_fields = {"advertiser": "program__advertiser", "affiliate": "affiliate"}

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="partnerships")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="partnerships")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    applied_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Who decided (null with a decided_at: approved automatically) and when.
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # An invitation (invite-only programs) is a pending partnership the affiliate accepts by applying.
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    # The partnership's own caps (same shape as Program.caps): when set, they replace the program's for this
    # affiliate's conversions. Null: the program's caps apply.
    caps = models.JSONField(null=True, blank=True, default=None)
    caps_paused_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["network", "program", "affiliate"], name="partnership_unique")]

    def __str__(self) -> str:
        return f"{self.affiliate_id} in {self.program_id} ({self.status})"


class Creative(TenantModel):
    """Promotional material rendered with the affiliate's own tracking URL ({tracking_url} in bodies)."""

    party_fields = {"advertiser": "program__advertiser", "affiliate": "program__partnerships__affiliate"}

    class Kind(models.TextChoices):
        BANNER = "banner", _("Banner image")
        TEXT = "text", _("Text link")
        HTML = "html", _("HTML snippet")
        EMAIL = "email", _("E-mail template")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="creatives")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=200)
    # The public store: affiliates embed the banner's URL in their pages, so it must not expire (core/storage.py).
    image = models.FileField(upload_to="creatives/%Y/%m/", storage=public_storage, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    body = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CouponCode(TenantModel):
    """A code (unique in the network, stored upper case) that attributes an order to one partnership."""

    party_fields = {"advertiser": "partnership__program__advertiser", "affiliate": "partnership__affiliate"}

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["network", "code"], name="coupon_unique_code")]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        # Codes compare case-insensitively: stored upper case, so the unique constraint is case-insensitive too.
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)


SUB_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5")


class SubIds(models.Model):
    """The affiliate's five free-form sub IDs (`sub1`..`sub5`), carried from link to click to conversion."""

    sub1 = models.CharField(max_length=255, blank=True, default="")
    sub2 = models.CharField(max_length=255, blank=True, default="")
    sub3 = models.CharField(max_length=255, blank=True, default="")
    sub4 = models.CharField(max_length=255, blank=True, default="")
    sub5 = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        abstract = True


def new_link_code() -> str:
    # 10 URL-safe characters = 60 random bits: unguessable, short, unique (the column is unique too).
    return secrets.token_urlsafe(8)[:10]


class LinkCode(models.Model):
    """Which network a link code belongs to: the redirect's cold path knows only the code. A small table that
    every node holds (a reference table under Citus; tracking links are distributed by network), and the one
    place a code is unique across the installation. A code stays here after its link is gone, so none is reused."""

    code = models.CharField(max_length=32, primary_key=True)
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.code


class TrackingLink(TenantModel, SubIds):
    """An affiliate's link into a program: /c/<code> on the tracking domain."""

    party_fields = {"advertiser": "program__advertiser", "affiliate": "affiliate"}

    # Unique in its network here, across the installation through LinkCode (written with the link).
    code = models.CharField(max_length=32, default=new_link_code)
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="links")
    # Denormalised from the partnership so the redirect and the ingester need no joins.
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="+")
    destination_url = models.URLField(max_length=2000, blank=True, default="")
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["network", "code"], name="tracking_link_unique_code")]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        if not self._state.adding:
            return super().save(*args, **kwargs)
        with transaction.atomic():  # the code's global row and the link, or neither
            LinkCode.objects.create(code=self.code, network_id=self.network_id)
            return super().save(*args, **kwargs)


class CapCounter(TenantModel):
    """What a program (partnership null) or a partnership with its own caps used in one cap period: the day or the
    calendar month starting on `period_start` (a date in the network's time zone). Rows are locked while a
    conversion's commission is decided (programs.caps), so concurrent conversions never overshoot a cap."""

    class Period(models.TextChoices):
        DAY = "day", _("Day")
        MONTH = "month", _("Month")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    partnership = models.ForeignKey(Partnership, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=5, choices=Period.choices)
    period_start = models.DateField()
    conversions = models.PositiveIntegerField(default=0)
    payout = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, default=0)
    # The highest alert level (0, 80, 100) already sent for the period's conversion cap and payout budget.
    conversions_alerted = models.PositiveSmallIntegerField(default=0)
    payout_alerted = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "program", "period", "period_start"],
                                    condition=models.Q(partnership__isnull=True), name="capcounter_unique_program"),
            models.UniqueConstraint(fields=["network", "partnership", "period", "period_start"],
                                    condition=models.Q(partnership__isnull=False),
                                    name="capcounter_unique_partnership"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.partnership_id or '-'} {self.period} {self.period_start}"
