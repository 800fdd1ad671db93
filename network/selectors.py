"""Reads for tenancy, always scoped to one network."""

from .models import Announcement, Membership, Network, Role


def announcements_for(*, network: Network, membership: Membership):
    qs = Announcement.objects.for_network(network)
    if membership.role == Role.AFFILIATE:
        return qs.filter(audience__in=[Announcement.Audience.ALL, Announcement.Audience.AFFILIATES])
    if membership.role == Role.ADVERTISER:
        return qs.filter(audience__in=[Announcement.Audience.ALL, Announcement.Audience.ADVERTISERS])
    return qs


def memberships_of_user(user):
    return Membership.objects.select_related("network").filter(user=user, is_active=True).order_by("network__name")
