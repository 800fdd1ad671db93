"""Reads for commissions, scoped to a network and to what a membership may see."""

import zoneinfo
from datetime import datetime, time, timedelta

import django_filters
from django.db.models import QuerySet

from network.models import Membership, Role

from .models import Commission


def commissions_for(*, queryset: QuerySet, membership: Membership) -> QuerySet:
    """Advertisers see their programs' commissions, affiliates their own, operators all of the network's."""
    if membership.is_operator:
        return queryset
    party = membership.party
    if party is None:
        return queryset.none()
    if membership.role == Role.ADVERTISER:
        return queryset.filter(advertiser=party)
    return queryset.filter(affiliate=party)


def _day_start(day, tz_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(tz_name))


class CommissionFilter(django_filters.FilterSet):
    """status, program, affiliate, and created dates (inclusive, in the network's time zone)."""

    status = django_filters.ChoiceFilter(choices=Commission.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Commission.Kind.choices)
    program = django_filters.NumberFilter(field_name="program_id")
    affiliate = django_filters.NumberFilter(field_name="affiliate_id")
    conversion = django_filters.NumberFilter(field_name="conversion_id")
    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta:
        model = Commission
        fields = ["status", "kind", "program", "affiliate", "conversion"]

    def _tz(self) -> str:
        view = self.request.parser_context.get("view") if self.request is not None else None
        return view.network.timezone if view is not None else "UTC"

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value, self._tz()))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1), self._tz()))


def payable_commissions(*, network, affiliate, currency) -> QuerySet:
    """Approved commissions of an affiliate in one currency: what a payout batch marks paid."""
    return Commission.objects.for_network(network).filter(
        affiliate=affiliate, currency=currency, status=Commission.Status.APPROVED
    ).order_by("pk")
