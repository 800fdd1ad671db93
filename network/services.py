"""Writes for tenancy: networks, parties, partner groups, memberships, API keys, audit log, announcements."""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext

from . import signals
from .models import (
    Advertiser,
    Affiliate,
    Announcement,
    ApiKey,
    AuditLog,
    Membership,
    Network,
    PartnerGroup,
    PartyStatus,
    Role,
    User,
    validate_currency,
    validate_timezone,
)

API_KEY_PREFIX = "afk_"


def hash_api_key(raw: str) -> str:
    # Keys are 256-bit random tokens, so a plain SHA-256 is enough (no stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw: str


def _group_taken(name: str) -> str:
    return gettext("The network already has a partner group named “%(name)s”.") % {"name": name}


def audit_log_record(*, network: Network, actor: User | None, action: str, target=None, data=None) -> AuditLog:
    return AuditLog.objects.create(
        network=network,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )


# Settings an operator may change through the API (`PATCH /api/v1/network`).
NETWORK_API_SETTINGS = ("is_public", "affiliate_approval_required")


@transaction.atomic
def network_settings_update(*, network: Network, actor: User | None, **changes) -> Network:
    """Change some of the network's settings (NETWORK_API_SETTINGS) and audit what changed."""
    unknown = set(changes) - set(NETWORK_API_SETTINGS)
    if unknown:
        raise ValidationError({name: ["This setting cannot be changed here."] for name in sorted(unknown)})
    network = Network.objects.select_for_update().get(pk=network.pk)
    changed = {name: value for name, value in changes.items() if getattr(network, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(network, name, value)
        network.save(update_fields=list(changed))
        audit_log_record(network=network, actor=actor, action="network.settings_changed", target=network,
                         data=changed)
    return network


def api_key_create(*, membership: Membership, name: str = "default", raw: str | None = None) -> IssuedKey:
    """Issue a key for a membership. The raw key is returned once and never stored."""
    raw = raw or API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        network_id=membership.network_id,
        membership=membership,
        name=name,
        prefix=raw[:12],
        hashed_key=hash_api_key(raw),
    )
    return IssuedKey(api_key=key, raw=raw)


def api_key_revoke(*, network: Network, api_key: ApiKey, actor: User | None = None) -> ApiKey:
    if api_key.network_id != network.pk:
        raise ValidationError("Key belongs to another network.")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_log_record(network=network, actor=actor, action="api_key.revoked", target=api_key)
    return api_key


def _user_for_email(email: str, name: str = "") -> User:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email, email=email, first_name=name[:150])
        user.set_unusable_password()
        user.save()
    return user


def membership_create(*, network: Network, email: str, role: str, name: str = "") -> Membership:
    user = _user_for_email(email, name)
    if Membership.objects.filter(network=network, user=user).exists():
        raise ValidationError({"email": [gettext("Someone with this e-mail is already in this network.")]})
    return Membership.objects.create(network=network, user=user, role=role)


@transaction.atomic
def network_create(*, name: str, slug: str, currency: str, owner_email: str, timezone_name: str = "UTC",
                   is_public: bool = False) -> tuple[Network, IssuedKey]:
    """A new network and its owner with a first API key. `is_public` lists it on the home page."""
    validate_currency(currency)
    validate_timezone(timezone_name)
    if Network.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A network with slug '{slug}' already exists."]})
    network = Network(name=name, slug=slug, default_currency=currency, timezone=timezone_name, is_public=is_public)
    network.full_clean()
    network.save()
    owner = membership_create(network=network, email=owner_email, role=Role.OWNER, name=name)
    issued = api_key_create(membership=owner, name="owner")
    audit_log_record(network=network, actor=owner.user, action="network.created", target=network)
    return network, issued


@transaction.atomic
def advertiser_create(*, network: Network, name: str, email: str, actor: User | None = None) -> tuple[
    Advertiser, IssuedKey
]:
    membership = membership_create(network=network, email=email, role=Role.ADVERTISER, name=name)
    advertiser = Advertiser.objects.create(
        network=network, membership=membership, name=name, email=email.strip().lower()
    )
    issued = api_key_create(membership=membership)
    audit_log_record(network=network, actor=actor, action="advertiser.created", target=advertiser)
    return advertiser, issued


@transaction.atomic
def affiliate_create(
    *,
    network: Network,
    name: str,
    email: str,
    referred_by: Affiliate | None = None,
    status: str = PartyStatus.ACTIVE,
    actor: User | None = None,
) -> tuple[Affiliate, IssuedKey]:
    if referred_by is not None and referred_by.network_id != network.pk:
        raise ValidationError({"referred_by": ["Unknown affiliate."]})
    membership = membership_create(network=network, email=email, role=Role.AFFILIATE, name=name)
    affiliate = Affiliate.objects.create(
        network=network,
        membership=membership,
        name=name,
        email=email.strip().lower(),
        referred_by=referred_by,
        status=status,
    )
    issued = api_key_create(membership=membership)
    audit_log_record(network=network, actor=actor, action="affiliate.created", target=affiliate)
    signals.affiliate_created.send(sender=Affiliate, affiliate=affiliate)
    return affiliate, issued


def party_set_status(*, network: Network, party: Advertiser | Affiliate, status: str, actor: User | None) -> None:
    """Activate or suspend an advertiser or affiliate (its memberships' keys stop working when suspended)."""
    if party.network_id != network.pk:
        raise ValidationError("Party belongs to another network.")
    if status not in PartyStatus.values:
        raise ValidationError({"status": [f"Unknown status '{status}'."]})
    with transaction.atomic():
        approved = (isinstance(party, Affiliate) and status == PartyStatus.ACTIVE
                    and type(party).objects.filter(network=network, pk=party.pk, status=PartyStatus.PENDING).exists())
        party.status = status
        party.save(update_fields=["status"])
        Membership.objects.filter(pk=party.membership_id).update(is_active=status != PartyStatus.SUSPENDED)
        audit_log_record(network=network, actor=actor, action=f"{party._meta.model_name}.{status}", target=party)
        if approved:
            signals.affiliate_approved.send(sender=Affiliate, affiliate=party)


def announcement_create(*, network: Network, title: str, body: str, actor: User | None,
                        audience: str = Announcement.Audience.AFFILIATES) -> Announcement:
    announcement = Announcement.objects.create(
        network=network, title=title, body=body, audience=audience, created_by=actor
    )
    audit_log_record(network=network, actor=actor, action="announcement.created", target=announcement)
    return announcement


# --- partner groups -----------------------------------------------------------------------------------------------
def _group_name(network: Network, name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [gettext("A partner group needs a name.")]})
    if len(name) > PartnerGroup._meta.get_field("name").max_length:
        raise ValidationError({"name": [gettext("At most 60 characters.")]})
    taken = PartnerGroup.objects.for_network(network).filter(name__iexact=name)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError({"name": [_group_taken(name)]})
    return name


@transaction.atomic
def partner_group_create(*, network: Network, name: str, description: str = "", actor: User | None) -> PartnerGroup:
    name = _group_name(network, name)
    try:
        with transaction.atomic():
            group = PartnerGroup.objects.create(network=network, name=name, description=description or "")
    except IntegrityError as exc:  # the same name created concurrently
        raise ValidationError({"name": [_group_taken(name)]}) from exc
    audit_log_record(network=network, actor=actor, action="partner_group.created", target=group, data={"name": name})
    return group


@transaction.atomic
def partner_group_update(*, network: Network, group: PartnerGroup, actor: User | None, **fields) -> PartnerGroup:
    """Rename or describe a group: its rules and affiliates stay with it."""
    if group.network_id != network.pk:
        raise ValidationError(gettext("The partner group belongs to another network."))
    changed = []
    if "name" in fields:
        group.name = _group_name(network, fields["name"], exclude_id=group.pk)
        changed.append("name")
    if "description" in fields:
        group.description = fields["description"] or ""
        changed.append("description")
    if changed:
        group.save(update_fields=changed)
        audit_log_record(network=network, actor=actor, action="partner_group.updated", target=group,
                         data={name: getattr(group, name) for name in changed})
    return group


@transaction.atomic
def partner_group_delete(*, network: Network, group: PartnerGroup, actor: User | None) -> None:
    """Delete a group no rule targets (its affiliates leave it); a group with rules: ValidationError, nothing
    changed (a rule's rates would silently fall back to the default otherwise)."""
    if group.network_id != network.pk:
        raise ValidationError(gettext("The partner group belongs to another network."))
    audit_log_record(network=network, actor=actor, action="partner_group.deleted", target=group,
                     data={"name": group.name})
    try:
        with transaction.atomic():
            Affiliate.objects.for_network(network).filter(group=group).update(group=None)
            group.delete()
    except ProtectedError as exc:
        raise ValidationError(gettext("Commission rules target this partner group: delete or change them first.")
                              ) from exc


@transaction.atomic
def partner_group_assign(*, network: Network, group: PartnerGroup | None, affiliates: list[Affiliate],
                         actor: User | None) -> int:
    """Put affiliates in `group` (None: in no group); their next conversions earn by its rules. Returns how many
    changed."""
    if group is not None and group.network_id != network.pk:
        raise ValidationError({"group": ["Unknown partner group."]})
    if any(affiliate.network_id != network.pk for affiliate in affiliates):
        raise ValidationError({"affiliates": ["Unknown affiliate."]})
    ids = [affiliate.pk for affiliate in affiliates]
    chosen = Affiliate.objects.for_network(network).filter(pk__in=ids)
    changed = chosen.exclude(group=group) if group is not None else chosen.filter(group__isnull=False)
    changed_ids = sorted(changed.values_list("pk", flat=True))
    Affiliate.objects.for_network(network).filter(pk__in=changed_ids).update(group=group)
    for affiliate in affiliates:
        affiliate.group = group
    if changed_ids:
        audit_log_record(network=network, actor=actor, action="partner_group.assigned", target=group,
                         data={"group": group.pk if group else None, "affiliates": changed_ids})
    return len(changed_ids)
