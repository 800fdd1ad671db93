"""Recording where affiliates' members sign in and call the API from (keyed hashes, for the self-referral
signal), and purging those records with the network's click retention."""

from datetime import datetime, timedelta

from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from core.throttling import client_address
from network.auth import api_key_authenticated
from network.models import Affiliate, Membership, Network, Role

from . import clicks
from .models_fraud import MemberAddress

# One write per member, address and source a day: the API's hot path reads a cache key, not the database.
SEEN_RESOLUTION = timedelta(days=1)


def member_address_record(*, membership: Membership, ip: str, source: str, now: datetime | None = None) -> bool:
    """Remember that an affiliate's member used this address (its keyed hash). True when a row was written."""
    if membership.role != Role.AFFILIATE:
        return False
    address_hash = clicks.ip_hash(ip or "")
    if not address_hash:
        return False
    if not cache.add(f"member-address:{membership.pk}:{source}:{address_hash}", 1,
                     timeout=int(SEEN_RESOLUTION.total_seconds())):
        return False
    affiliate_id = (Affiliate.objects.for_network(membership.network_id).filter(membership_id=membership.pk)
                    .values_list("id", flat=True).first())
    if affiliate_id is None:
        return False
    now = now or timezone.now()
    rows = MemberAddress.objects.for_network(membership.network_id).filter(
        affiliate_id=affiliate_id, address_hash=address_hash, membership_id=membership.pk, source=source)
    if rows.update(last_seen_at=now):
        return True
    try:
        with transaction.atomic():
            MemberAddress.objects.create(network_id=membership.network_id, affiliate_id=affiliate_id,
                                         membership_id=membership.pk, address_hash=address_hash, source=source,
                                         first_seen_at=now, last_seen_at=now)
    except IntegrityError:  # a concurrent first sight of the same address
        rows.update(last_seen_at=now)
    return True


def member_addresses_purge(*, now: datetime | None = None) -> int:
    """Delete addresses not seen within their network's click retention. Returns rows deleted."""
    now = now or timezone.now()
    deleted = 0
    by_days: dict[int, list[int]] = {}
    for network_id, days in Network.objects.values_list("id", "click_retention_days"):
        by_days.setdefault(days, []).append(network_id)
    for days, network_ids in by_days.items():
        count, _ = MemberAddress.objects.filter(network_id__in=network_ids,
                                                last_seen_at__lt=now - timedelta(days=days)).delete()
        deleted += count
    return deleted


@receiver(user_logged_in, dispatch_uid="tracking.member_addresses.sign_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    ip = client_address(request)
    for membership in Membership.objects.filter(user=user, role=Role.AFFILIATE, is_active=True):
        member_address_record(membership=membership, ip=ip, source=MemberAddress.Source.SIGN_IN)


@receiver(api_key_authenticated, dispatch_uid="tracking.member_addresses.api")
def _api_call(sender, request, membership, **kwargs) -> None:
    if membership.role == Role.AFFILIATE:
        member_address_record(membership=membership, ip=client_address(request), source=MemberAddress.Source.API)
