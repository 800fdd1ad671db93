"""Clicks, hourly click rollups and conversions (outbound deliveries live in this app too)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from network.models import Advertiser, Affiliate, Network, TenantModel, validate_currency
from programs.models import CouponCode, Partnership, Program, SubIds, TrackingLink


class Click(TenantModel, SubIds):
    """One visit through a tracking link. Written only by the ingester (or the fallback direct write).

    `click_id` is time-ordered (a ULID: 48-bit milliseconds + 80 random bits, Crockford base32), so
    `created_at` is derived from it and unique(click_id) can live on a table partitioned by day.
    No raw IP is stored: a keyed hash and a truncated form.
    """

    # On PostgreSQL the table is partitioned by day (migration 0002): the constraint there is
    # UNIQUE (click_id, created_at), the same thing because created_at is derived from click_id.
    click_id = models.CharField(max_length=26, unique=True)
    # No database-level constraint (a per-row trigger halves ingestion speed); Django still cascades.
    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    # Few indexes on purpose: every one slows ingestion. Lookups go by click_id, by (link, ip_hash, time)
    # for duplicates, by time for retention; reports read ClickRollup.
    program = models.ForeignKey(
        Program, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    link = models.ForeignKey(
        TrackingLink, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    ip_hash = models.CharField(max_length=64, blank=True, default="")
    ip_truncated = models.CharField(max_length=45, blank=True, default="")
    user_agent = models.CharField(max_length=512, blank=True, default="")
    referrer = models.CharField(max_length=1000, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    is_unique = models.BooleanField(default=True)
    is_bot = models.BooleanField(default=False)
    # IP velocity: when this visitor's clicks on the program within its velocity window (this one included)
    # exceeded the program's limit, how many there were; 0 when not flagged. No CHECK constraint (a plain integer):
    # a day's partition made by moving rows (tracking.partitions) copies defaults only.
    velocity_count = models.IntegerField(default=0)
    # Targeting (programs.targeting): the device type the redirect read from the user agent when the program
    # restricts anything ("desktop", "mobile", "tablet"; "" otherwise), and why the click was outside the targeting
    # ("country_blocked", "country_not_allowed", "device_not_allowed"; "" inside). An off-target click is sent on
    # without a click id; its conversions are rejected.
    device = models.CharField(max_length=8, blank=True, default="")
    off_target = models.CharField(max_length=24, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # One index for the ingester's two look-ups per visitor: the IP velocity count (visitor, program, newest
            # first) and the duplicate check (the same walk, stopping at the link's newest click). It leads with the
            # network, as every statement names it (Citus routes by it): with (ip_hash, program, created_at) the
            # planner took (network, created_at) for `network_id = 1` and walked the whole network's window for each
            # visitor (0.8 s a chunk of 500 visitors on a day's partition analysed early).
            models.Index(fields=["network", "ip_hash", "program", "created_at"], name="tracking_click_net_visitor"),
            models.Index(fields=["network", "created_at"], name="tracking_click_network_time"),
        ]

    def __str__(self) -> str:
        return self.click_id


class ClickRollup(TenantModel, SubIds):
    """Clicks per hour and dimension; reports read these, never raw clicks. Kept past click retention.

    Written only by the ingester, in the transaction that inserts the clicks, for rows actually inserted.
    `clicks` counts every click; `bot_clicks` those with a bot user agent; `unique_clicks` those that are
    neither a duplicate (same link and visitor hash within the window) nor a bot: what CPC pays on;
    `velocity_clicks` those flagged for IP velocity (too many clicks from one visitor on the program).
    Its sub IDs (from SubIds) are cut to ROLLUP_SUB_LENGTH characters (tracking.ingest) so the unique key
    stays within an index row.
    """

    party_fields = {"advertiser": "program__advertiser", "affiliate": "affiliate"}

    hour = models.DateTimeField()
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2, blank=True, default="")
    clicks = models.PositiveBigIntegerField(default=0)
    unique_clicks = models.PositiveBigIntegerField(default=0)
    bot_clicks = models.PositiveBigIntegerField(default=0)
    velocity_clicks = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "program", "affiliate", "hour", "sub1", "sub2", "sub3", "sub4", "sub5", "country"],
                name="click_rollup_unique",
            )
        ]
        # Reports read a network's rows by time range (the unique key above starts with program, affiliate).
        indexes = [models.Index(fields=["network", "hour"], name="click_rollup_network_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h p{self.program_id} a{self.affiliate_id}: {self.clicks}"


class LinkRollup(TenantModel):
    """Clicks per tracking link and hour (UTC), for the link builder's per-link figures and sparkline: the click
    table has no index on the link, so those read these instead. Written by the ingester with ClickRollup (one
    upsert per batch, grouped by link and hour), for rows actually inserted; kept past click retention like it.
    `unique_clicks` counts as ClickRollup's does (tracking.daily.counts_unique)."""

    party_fields = {"advertiser": "link__program__advertiser", "affiliate": "link__affiliate"}

    # The database's key is composite, (network_id, link_id) -> the link's (network_id, id), as every tenant-to-tenant
    # key (core.citus): the migration adds it, since Django's own would reference the link's id alone.
    link = models.ForeignKey(TrackingLink, on_delete=models.CASCADE, db_constraint=False, db_index=False,
                             related_name="+")
    hour = models.DateTimeField()
    clicks = models.PositiveBigIntegerField(default=0)
    unique_clicks = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["hour"]
        # The link figures read (network, link in [...], hour >= since): this key serves them too.
        constraints = [models.UniqueConstraint(fields=["network", "link", "hour"], name="link_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h link {self.link_id}: {self.clicks}"


PARTNER_DAY_KEY = ("network", "day", "advertiser", "program", "affiliate")
DAY_KEY = (*PARTNER_DAY_KEY, "sub1", "sub2", "sub3", "sub4", "sub5", "country")


class PartnerDayFigures(TenantModel):
    """Sums per network-local day and partnership (network.daily writes them; reports read them): about one row
    per partnership a day whatever the traffic, for the reports and overviews that group by time, program or
    affiliate. Written with their day table (network.daily.add projects the same differences onto them) and
    rebuilt from it. No database-level foreign keys: a key of 0 means none (an unattributed conversion has no
    program nor affiliate), and every write would otherwise check three parents."""

    party_fields = {"advertiser": "advertiser", "affiliate": "affiliate"}
    day_key = PARTNER_DAY_KEY

    day = models.DateField()
    advertiser = models.ForeignKey(Advertiser, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} p{self.program_id} a{self.affiliate_id}"


class DayFigures(PartnerDayFigures, SubIds):
    """Sums per network-local day and every report dimension: the partnership, sub IDs and country. Sub IDs are
    cut to ROLLUP_SUB_LENGTH characters like the hourly rollups' (tracking.ingest)."""

    day_key = DAY_KEY

    country = models.CharField(max_length=2, blank=True, default="")

    class Meta:
        abstract = True


class ClickSums(models.Model):
    """The clicks' counters of a day table (those of the hourly rollups)."""

    day_sums = ("clicks", "unique_clicks", "bot_clicks", "velocity_clicks")

    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    bot_clicks = models.BigIntegerField(default=0)
    velocity_clicks = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class ConversionSums(models.Model):
    """The conversions' sums of a day table, per currency: how many (and how many of them came through a click:
    the conversion rate's numerator), and their order amounts net of refunds."""

    day_sums = ("conversions", "click_conversions", "sales")

    currency = models.CharField(max_length=3)
    conversions = models.BigIntegerField(default=0)
    click_conversions = models.BigIntegerField(default=0)
    sales = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS + 4, decimal_places=AMOUNT_DECIMAL_PLACES, default=0)

    class Meta:
        abstract = True


class ClickPartnerDay(PartnerDayFigures, ClickSums):
    """ClickDay per partnership."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=PARTNER_DAY_KEY, name="click_partner_day_unique")]


class ConversionPartnerDay(PartnerDayFigures, ConversionSums):
    """ConversionDay per partnership."""

    day_key = (*PARTNER_DAY_KEY, "currency")

    class Meta:
        constraints = [models.UniqueConstraint(fields=(*PARTNER_DAY_KEY, "currency"),
                                               name="conversion_partner_day_unique")]


class ClickDay(DayFigures, ClickSums):
    """Clicks per network-local day: the hourly rollups' counters, written by the ingester in the same
    transaction (the day of each click's own instant, so half-hour time zones are exact too)."""

    class Meta:
        # On PostgreSQL this key's index also carries clicks and unique_clicks (migration 0014: reports scan it alone).
        constraints = [models.UniqueConstraint(fields=DAY_KEY, name="click_day_unique")]


class ConversionDay(DayFigures, ConversionSums):
    """Conversions not rejected per network-local day of the conversion and currency: how many and their order
    amounts net of refunds (`sales`). Unattributed ones have program and affiliate 0."""

    day_key = (*DAY_KEY, "currency")

    class Meta:
        # On PostgreSQL this key's index also carries conversions and sales (migration 0014).
        constraints = [models.UniqueConstraint(fields=(*DAY_KEY, "currency"), name="conversion_day_unique")]


class ConversionDayChange(DayFigures, ConversionSums):
    """A difference to ConversionDay not folded in yet (network.daily): writers insert these (no row is shared by
    two writers, so a busy day's row is never a point of contention); `reports.tasks.day_changes_fold` adds them
    to ConversionDay every few seconds. Reports read both."""

    day_key = (*DAY_KEY, "currency")

    class Meta:
        indexes = [models.Index(fields=["network", "day"], name="conversion_day_change_day")]


ClickDay.coarse = ClickPartnerDay
ConversionDay.changes = ConversionDayChange
ConversionDay.coarse = ConversionPartnerDay


class RefundStatus(models.TextChoices):
    NONE = "none", _("Not refunded")
    PARTIAL = "partial", _("Partially refunded")
    FULL = "full", _("Refunded")


def refund_status(amount, refunded_amount) -> str:
    """How much of an order is refunded: none, partial or full (over plain values: the fast path has no model)."""
    if not refunded_amount or refunded_amount <= 0:
        return RefundStatus.NONE
    return RefundStatus.FULL if refunded_amount >= amount else RefundStatus.PARTIAL


def refund_status_q(status: str) -> models.Q:
    """The conversions whose `refund_status` is `status` (the same rule as a query)."""
    refunded = models.Q(refunded_amount__gt=0)
    return {
        RefundStatus.NONE: ~refunded,
        RefundStatus.PARTIAL: refunded & models.Q(refunded_amount__lt=models.F("amount")),
        RefundStatus.FULL: refunded & models.Q(refunded_amount__gte=models.F("amount")),
    }[status]


def current_time():
    # Looked up when called (timezone.now itself as the default would be bound once, at import).
    return timezone.now()


class Conversion(TenantModel, SubIds):
    """A sale or lead reported by the advertiser's server (idempotent on advertiser + order_id)."""

    party_fields = {"advertiser": "advertiser", "affiliate": "affiliate"}

    class Event(models.TextChoices):
        SALE = "sale", _("Sale")
        LEAD = "lead", _("Lead")

    class Attribution(models.TextChoices):
        CLICK = "click", _("Click id")
        COUPON = "coupon", _("Coupon code")
        CUSTOMER = "customer", _("Known customer (renewal)")
        NONE = "none", _("Unattributed")

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        HELD = "held", _("Held for review")
        REJECTED = "rejected", _("Rejected")

    # No index of its own: unique(advertiser, order_id) leads with it (every index slows the postback's INSERT).
    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="conversions", db_index=False)
    order_id = models.CharField(max_length=128)
    event = models.CharField(max_length=8, choices=Event.choices, default=Event.SALE)
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    refunded_amount = models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, default=0
    )
    attribution = models.CharField(max_length=10, choices=Attribution.choices, default=Attribution.NONE)
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey(Affiliate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(TrackingLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    coupon = models.ForeignKey(CouponCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The code the merchant sent (whatever the customer typed), kept whether or not it is an affiliate's code.
    coupon_code = models.CharField(max_length=64, blank=True, default="")
    click_id = models.CharField(max_length=26, blank=True, default="")
    # First-click programs: the visitor's first click on the program within the window, when it took the credit
    # from the later click the order reported (`click_id`, kept as reported); empty otherwise.
    first_click_id = models.CharField(max_length=26, blank=True, default="")
    clicked_at = models.DateTimeField(null=True, blank=True)
    # Sub IDs copied from the click so postback macros and reports need no click lookup.
    country = models.CharField(max_length=2, blank=True, default="")
    customer_id = models.CharField(max_length=128, blank=True, default="")
    # Keyed hash of the customer's e-mail (self-referral checks), never the address itself.
    customer_email_hash = models.CharField(max_length=64, blank=True, default="")
    # Keyed hash of the customer's IP when the merchant posts it (self-referral against the addresses the
    # affiliate's members signed in or called the API from).
    customer_ip_hash = models.CharField(max_length=64, blank=True, default="")
    # A well-formed click id whose click row was not ingested yet (queue lag): attributed by a task later.
    attribution_pending = models.BooleanField(default=False)
    items = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    # Fraud signals as codes: "too_fast", "self_referral", "duplicate_order", "velocity", ...
    fraud_signals = models.JSONField(default=list, blank=True)
    # Each signal's evidence (tracking.fraud): {"code": ..., rule values ...}; ids and hashes, never a raw
    # address or e-mail. Pages put it in words (tracking.fraud_words).
    signal_details = models.JSONField(default=list, blank=True)
    # A test sale of the Integration page (tracking.sample_conversion): listed with a "Test" badge, never counted in
    # the day tables (totals, reports, charts).
    is_test = models.BooleanField(default=False, db_default=False)
    # When the sale happened: now for a postback, the file's `occurred_at` for an imported one.
    created_at = models.DateTimeField(default=current_time, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "advertiser", "order_id"], name="conversion_unique_order"),
        ]
        indexes = [
            models.Index(fields=["network", "affiliate", "created_at"]),
            # Equality look-ups only: plain B-trees, without the LIKE (pattern_ops) twins db_index would add.
            models.Index(fields=["click_id"], name="tracking_conversion_click"),
            # The duplicate-order check of a postback (`fraud.duplicate_order_sql`) names the network and the click:
            # with this index its plan stays on the click whatever the network's size (the network's own indexes
            # would walk all of its conversions), and on Citus the statement stays on the network's shard.
            models.Index(fields=["network", "click_id"], name="tracking_conversion_net_click"),
            models.Index(fields=["customer_id"], name="tracking_conversion_customer"),
            # Only the few conversions waiting for their click (the ingester reads them every batch).
            models.Index(fields=["network"], condition=models.Q(attribution_pending=True),
                         name="tracking_conversion_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount} {self.currency}"

    @property
    def refund_status(self) -> str:
        return refund_status(self.amount, self.refunded_amount)

    def get_refund_status_display(self) -> str:
        return RefundStatus(self.refund_status).label


from .models_fraud import MemberAddress  # noqa: E402,F401
from .models_import import ConversionImport  # noqa: E402,F401
from .models_outbound import Delivery, DeliveryAttempt, WebhookEndpoint  # noqa: E402,F401
from .models_pixel import PixelToken  # noqa: E402,F401
from .models_stripe import StripeCustomer, StripeEvent, StripeIntegration  # noqa: E402,F401
