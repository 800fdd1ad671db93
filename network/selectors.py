"""Reads for tenancy, always scoped to one network."""

from django.db.models import Count, Q

from .models import Affiliate, Announcement, Membership, Network, PartnerGroup, Role


def partner_groups(*, network: Network, queryset=None):
    """The network's partner groups by name, each with `affiliate_count`. `queryset`: narrowed rows to start from."""
    rows = PartnerGroup.objects.for_network(network) if queryset is None else queryset.filter(network_id=network.pk)
    return rows.annotate(
        affiliate_count=Count("affiliates", filter=Q(affiliates__network_id=network.pk))).order_by("name", "id")


def announcements_for(*, network: Network, membership: Membership):
    qs = Announcement.objects.for_network(network)
    if membership.role == Role.AFFILIATE:
        return qs.filter(audience__in=[Announcement.Audience.ALL, Announcement.Audience.AFFILIATES])
    if membership.role == Role.ADVERTISER:
        return qs.filter(audience__in=[Announcement.Audience.ALL, Announcement.Audience.ADVERTISERS])
    return qs


def memberships_of_user(user):
    return Membership.objects.select_related("network").filter(user=user, is_active=True).order_by("network__name")


def public_networks():
    """Networks listed on the home page and the sign-up chooser (a reference table: no tenant filter)."""
    return Network.objects.filter(is_public=True).order_by("name", "id")


REFERRAL_CODE_MAX = 16


def referrer_for_code(*, network: Network, code: str | None) -> Affiliate | None:
    """The affiliate of `network` whose referral code this is; None for no code, an unknown one or another
    network's (a referral link never errs and never crosses networks)."""
    code = (code or "").strip()
    if not code or len(code) > REFERRAL_CODE_MAX:
        return None
    return Affiliate.objects.for_network(network).filter(referral_code=code).first()
