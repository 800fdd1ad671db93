"""Tenancy: networks, who belongs to them in which role, API keys, audit log, announcements, idempotency keys."""

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import is_currency


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(_("“%(value)s” is not an ISO 4217 currency code."), code="currency",
                              params={"value": value})


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not an IANA time zone."), code="timezone", params={"value": value})


class User(AbstractUser):
    """A person who can log in; identified by e-mail. Roles live on memberships."""

    email = models.EmailField(unique=True)
    # The person's own choice (the switcher in the top bar); blank: the network's language, else the browser's.
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)
    objects = UserManager()

    def __str__(self) -> str:
        return self.email or self.username


class Network(models.Model):
    """A tenant: one affiliate network with its own parties, programs and money."""

    class Schedule(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        MANUAL = "manual", _("Manual")

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    default_currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # The members' and the join page's language unless a user chose one; blank: each visitor's browser language.
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)
    # New affiliates from the public join page need approval when this is on.
    affiliate_approval_required = models.BooleanField(default=True)
    # Listed on the home page and the sign-up chooser (its join page answers by direct link either way).
    is_public = models.BooleanField(default=False)
    click_retention_days = models.PositiveIntegerField(default=90)
    # Advertisers may add a branded tracking domain for their own programs (network.domains).
    advertiser_tracking_domains = models.BooleanField(default=False)
    # Payout schedule, thresholds per currency and fee policy; the payouts app owns its meaning.
    payout_settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_network(self, network: "Network | int") -> "TenantQuerySet":
        network_id = network if isinstance(network, int) else network.pk
        return self.filter(network_id=network_id)

    def with_ids(self, ids) -> "TenantQuerySet":
        """The rows of these ids, with the ids' bounds as a range as well (implied by the list): on a key (network_id,
        id) the planner then reads the span of the ids, where with the list alone it may read the whole network,
        believing it small when its statistics lag (a new network, an import, a bench's fresh tables)."""
        ids = list(ids)
        if not ids:
            return self.none()
        return self.filter(pk__in=ids, pk__gte=min(ids), pk__lte=max(ids))

    def visible_to(self, membership: "Membership") -> "TenantQuerySet":
        """What one member may see: its network's rows, narrowed by role. Operators see the whole network; an
        advertiser or an affiliate sees the rows its model's `party_fields[role]` path leads to its own profile
        (a role the model names no path for, or a membership without a profile, sees nothing: fail closed).

        The one place the role filter lives: selectors that show a surface-specific set (the marketplace, an
        affiliate's usable creatives) start from it and narrow or widen it by name."""
        rows = self.for_network(membership.network_id)
        if membership.role in OPERATOR_ROLES:
            return rows
        party = membership.party
        path = self.model.party_fields.get(membership.role)
        if party is None or path is None:
            return rows.none()
        if _crosses_many(self.model, path):
            # A path through a one-to-many relation would repeat rows (and `distinct()` would not combine with
            # `&`): match the keys in a subquery that carries the network filter too.
            matching = self.model._base_manager.filter(network_id=membership.network_id, **{path: party.pk})
            return rows.filter(pk__in=matching.values("pk"))
        return rows.filter(**{path: party.pk})


def _crosses_many(model, path: str) -> bool:
    for name in path.split("__"):
        if name == "pk":
            return False
        field = model._meta.get_field(name)
        if field.one_to_many or field.many_to_many:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


TenantManager = models.Manager.from_queryset(TenantQuerySet)


class TenantModel(models.Model):
    """Every tenant-owned row carries its network; views read through `for_network()` or `visible_to()`."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    # role -> the lookup path from this model to that party's profile, for `visible_to()`. One naming rule: the
    # key is the role ("advertiser", "affiliate"), the value a path ending at the Advertiser/Affiliate row.
    # A role missing here sees none of these rows; operators see all.
    party_fields: dict[str, str] = {}

    class Meta:
        abstract = True

    def save_every_field(self) -> None:
        """Save an existing row that a step rewrites as a whole (a webhook event's outcome): every field but its id
        and network, named, as every save of an existing tenant row names its fields."""
        self.save(update_fields=[field.name for field in self._meta.concrete_fields
                                 if not field.primary_key and field.name != "network"])

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # Re-read on the row's network (its shard), as every other read of a tenant row.
        # (A row read without its network_id, `.only(...)`, is re-read by id: reading the network would recurse.)
        network_id = self.__dict__.get("network_id")
        if from_queryset is None and network_id is not None:
            from_queryset = type(self)._base_manager.filter(network_id=network_id)
        return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        # Every save of an existing row (bare, ModelForm or serializer) updates it on its network's shard and never
        # sets network_id: a row does not move between networks, and Citus refuses an UPDATE of its distribution
        # column.
        values = [value for value in values if value[0].attname != "network_id"]
        return super()._do_update(base_qs.filter(network_id=self.network_id), using, pk_val, values, update_fields,
                                  forced_update)


def _join_on_network(field, alias, related_alias):
    """The extra condition of every join along a foreign key between tenant models: the two rows' network_id are
    equal (always true of the data). Citus then sees joins on the distribution column and keeps a query filtered by
    one network on that network's shard; PostgreSQL uses the composite keys."""
    from django.db.models.expressions import Col
    from django.db.models.lookups import Exact

    return Exact(Col(alias, field.related_model._meta.get_field("network")),
                 Col(related_alias, field.model._meta.get_field("network")))


def join_tenant_foreign_keys_on_network(models_list) -> None:
    """Called once the apps are loaded (network.apps): every FK and one-to-one field from a tenant model to a tenant
    model joins on network_id as well as on the id, both ways (the reverse relation asks its field), and its
    accessors read on the instance's network (network.routing)."""
    import types

    from .routing import route_descriptors_by_network

    for model in models_list:
        if not issubclass(model, TenantModel):
            continue
        for field in model._meta.fields:
            if (field.many_to_one or field.one_to_one) and field.name != "network" \
                    and isinstance(field.related_model, type) and issubclass(field.related_model, TenantModel):
                field.get_extra_restriction = types.MethodType(_join_on_network, field)
                route_descriptors_by_network(model, field)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    STAFF = "staff", _("Staff")
    ADVERTISER = "advertiser", _("Advertiser")
    AFFILIATE = "affiliate", _("Affiliate")


OPERATOR_ROLES = frozenset({Role.OWNER, Role.STAFF})


class Membership(TenantModel):
    """A user in a network with one role; a user may belong to several networks."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["user", "network"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.network_id} as {self.role}"

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATOR_ROLES

    @property
    def party(self):
        """The Advertiser or Affiliate profile of this membership, if any."""
        if self.role == Role.ADVERTISER:
            return getattr(self, "advertiser", None)
        if self.role == Role.AFFILIATE:
            return getattr(self, "affiliate", None)
        return None


class PartyStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")


class Party(TenantModel):
    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="%(class)s")
    name = models.CharField(max_length=120)
    email = models.EmailField()
    status = models.CharField(max_length=16, choices=PartyStatus.choices, default=PartyStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Advertiser(Party):
    """A merchant that runs programs in the network."""

    party_fields = {"advertiser": "pk"}

    class Meta(Party.Meta):
        constraints = [models.UniqueConstraint(fields=["network", "email"], name="advertiser_unique_email")]


class PartnerGroup(TenantModel):
    """A named set of the network's affiliates ("Gold partners"); programs' commission rules may target it."""

    name = models.CharField(max_length=60)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["network", "name"], name="partner_group_unique_name")]

    def __str__(self) -> str:
        return self.name


def new_referral_code() -> str:
    # Opaque (not the row id, which would tell how many affiliates a network has): 10 URL-safe characters.
    return secrets.token_urlsafe(8)[:10]


class Affiliate(Party):
    """A partner who promotes programs; may have been referred by another affiliate."""

    # Advertisers: the affiliates partnered (any status) in their programs.
    party_fields = {"advertiser": "partnerships__program__advertiser", "affiliate": "pk"}

    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    # The code of its referral link (the network's join page with `?ref=<code>`).
    referral_code = models.CharField(max_length=16, default=new_referral_code)
    # Its partner group: commission rules may target it.
    group = models.ForeignKey(PartnerGroup, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="affiliates")
    # The affiliate's own server-to-server postback URL template ({click_id}, {payout}, ...).
    postback_url = models.URLField(max_length=1000, blank=True, default="")
    # The events that fire it ("commission.approved", ...); empty: the default, its conversions' commission events.
    postback_events = models.JSONField(default=list, blank=True)

    class Meta(Party.Meta):
        constraints = [models.UniqueConstraint(fields=["network", "email"], name="affiliate_unique_email"),
                       models.UniqueConstraint(fields=["network", "referral_code"],
                                               name="affiliate_unique_referral_code")]


class ApiKey(TenantModel):
    """A bearer key for one membership. Only its SHA-256 is stored; the key is shown once."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, default="default")
    prefix = models.CharField(max_length=16, db_index=True)
    hashed_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditLog(TenantModel):
    """Who did what to which object in which network; append-only."""

    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        # One object's history (a commission's explanation reads its transitions and who acted).
        indexes = [models.Index(fields=["network", "target_type", "target_id"], name="audit_log_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class DayRebuild(TenantModel):
    """One rebuild of the network's day tables (network.daily) from their sources, after its time zone changed:
    `done` of `total` steps (a step is a span of local days), shown on the settings page while it runs."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    timezone = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"rebuild {self.timezone}: {self.done}/{self.total} {self.status}"

    @property
    def percent(self) -> int:
        return int(self.done * 100 / self.total) if self.total else 0


class Announcement(TenantModel):
    """A message from the network to its affiliates, advertisers or everyone."""

    class Audience(models.TextChoices):
        ALL = "all", _("Everyone")
        AFFILIATES = "affiliates", _("Affiliates")
        ADVERTISERS = "advertisers", _("Advertisers")

    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.AFFILIATES)
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class IdempotencyKey(TenantModel):
    """One `Idempotency-Key` sent with an API POST, in its scope (the API key, or the signed-in member when the
    call came with a session): the request's fingerprint and, once answered, the answer that the same request
    gets again for 24 hours (network.idempotency). `status_code` is null while the first request runs."""

    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "api_key", "key"], condition=models.Q(api_key__isnull=False),
                                    name="idempotency_key_unique_per_api_key"),
            models.UniqueConstraint(fields=["network", "membership", "key"], condition=models.Q(api_key__isnull=True),
                                    name="idempotency_key_unique_per_member"),
        ]
        indexes = [models.Index(fields=["network", "created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'running'})"


# Branded tracking domains: a host name of the network (or of one advertiser's programs) that CNAMEs to the
# platform; once verified, the network's links are built on it and `/c/` on it resolves only the network's links.
def new_challenge_token() -> str:
    return secrets.token_hex(16)


class VerifiedDomain(models.Model):
    """Which network holds a verified tracking domain: the one place a verified name is unique across the
    installation (a reference table under Citus, like programs.LinkCode; tracking domains are distributed by
    network, so their own keys are unique per network only). Written in the verifying transaction, deleted with
    the domain or when it is unverified."""

    domain = models.CharField(max_length=253, primary_key=True)
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.domain


class TrackingDomain(TenantModel):
    # Advertisers see and manage their own domains (when the network lets them); operators all of the network's.
    party_fields = {"advertiser": "advertiser"}

    # Null: the whole network's domain; set: used for that advertiser's programs only.
    advertiser = models.ForeignKey(Advertiser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Lower case, ASCII (an internationalized name is stored in its punycode form), no trailing dot.
    domain = models.CharField(max_length=253)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Ownership: the value of the TXT record `_affiliate-verify.<domain>` (network.domains.challenge_name).
    challenge_token = models.CharField(max_length=64, default=new_challenge_token)
    # The last DNS check (verify button or the daily re-check) and what was wrong then ("" when it passed);
    # consecutive failed re-checks of a verified domain (at TRACKING_DOMAIN_MAX_FAILED_CHECKS it is unverified).
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.CharField(max_length=500, blank=True, default="")
    failed_checks = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "domain"], name="tracking_domain_unique_per_network"),
            # A host routes to one network: whoever proves it first (DNS) holds it.
            models.UniqueConstraint(fields=["domain"], condition=models.Q(verified_at__isnull=False),
                                    name="tracking_domain_unique_verified"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def verified(self) -> bool:
        return self.verified_at is not None
