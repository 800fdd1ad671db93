"""Writes for tenancy: networks, parties, memberships, API keys, audit log, announcements."""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import signals
from .models import (
    Advertiser,
    Affiliate,
    Announcement,
    ApiKey,
    AuditLog,
    Membership,
    Network,
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


def audit_log_record(*, network: Network, actor: User | None, action: str, target=None, data=None) -> AuditLog:
    return AuditLog.objects.create(
        network=network,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )


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
        raise ValidationError({"email": ["Someone with this e-mail is already in this network."]})
    return Membership.objects.create(network=network, user=user, role=role)


@transaction.atomic
def network_create(*, name: str, slug: str, currency: str, owner_email: str, timezone_name: str = "UTC") -> tuple[
    Network, IssuedKey
]:
    """A new network and its owner with a first API key."""
    validate_currency(currency)
    validate_timezone(timezone_name)
    if Network.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A network with slug '{slug}' already exists."]})
    network = Network(name=name, slug=slug, default_currency=currency, timezone=timezone_name)
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
                    and type(party).objects.filter(pk=party.pk, status=PartyStatus.PENDING).exists())
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
