"""Reads for commissions, scoped to a network and to what a membership may see."""

import zoneinfo
from datetime import datetime, time, timedelta

import django_filters
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.filters import IdFilter
from core.money import quantize
from network.models import Membership, Role
from tracking.models import ClickRollup, Conversion

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
    program = IdFilter(field_name="program_id")
    affiliate = IdFilter(field_name="affiliate_id")
    conversion = IdFilter(field_name="conversion_id")
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


def network_daily_totals(*, network, days: int = 30, today=None) -> dict:
    """The network's last `days` local days in its default currency: clicks (rollups), conversions, and revenue,
    payout and margin of the commissions created each day (net of reversals; rejected ones count for nothing).

    Returns {"currency", "days": [date], "clicks", "conversions": [int], "revenue", "payout", "profit": [Decimal]}.
    """
    tz = zoneinfo.ZoneInfo(network.timezone)
    today = today or timezone.now().astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    since, until = _day_start(first, network.timezone), _day_start(today + timedelta(days=1), network.timezone)
    currency = network.default_currency
    clicks = dict(
        ClickRollup.objects.for_network(network).filter(hour__gte=since, hour__lt=until)
        .annotate(day=TruncDate("hour", tzinfo=tz)).values("day").annotate(n=Sum("clicks")).values_list("day", "n")
    )
    conversions = dict(
        Conversion.objects.for_network(network).filter(created_at__gte=since, created_at__lt=until)
        .exclude(status=Conversion.Status.REJECTED)
        .annotate(day=TruncDate("created_at", tzinfo=tz)).values("day").annotate(n=Count("id"))
        .values_list("day", "n")
    )
    money = {
        row["day"]: row for row in
        Commission.objects.for_network(network).filter(created_at__gte=since, created_at__lt=until, currency=currency)
        .exclude(status=Commission.Status.REJECTED)
        .annotate(day=TruncDate("created_at", tzinfo=tz)).values("day")
        .annotate(revenue=Sum(F("revenue") - F("reversed_revenue")), payout=Sum(F("amount") - F("reversed_amount")))
    }
    labels = [first + timedelta(days=n) for n in range(days)]
    zero = quantize(0, currency)
    revenue = [quantize(money[d]["revenue"], currency) if d in money else zero for d in labels]
    payout = [quantize(money[d]["payout"], currency) if d in money else zero for d in labels]
    return {
        "currency": currency,
        "days": labels,
        "clicks": [clicks.get(d) or 0 for d in labels],
        "conversions": [conversions.get(d, 0) for d in labels],
        "revenue": revenue,
        "payout": payout,
        "profit": [r - p for r, p in zip(revenue, payout, strict=True)],
    }


def conversions_without_commissions_ids(*, days: int, settle_seconds: int = 120) -> list[int]:
    """Attributed conversions of the last `days` days (older than `settle_seconds`, so a kick still in flight
    is not raced) that have no commission: the catch-up's work. Includes those no rule pays; computing them
    again writes nothing."""
    now = timezone.now()
    return list(
        Conversion.objects.filter(created_at__gte=now - timedelta(days=days),
                                  created_at__lt=now - timedelta(seconds=settle_seconds),
                                  affiliate__isnull=False, attribution_pending=False, commissions__isnull=True)
        .order_by("pk").values_list("pk", flat=True)
    )


def commissions_of_conversion(*, network, conversion: Conversion) -> QuerySet:
    """A conversion's commissions (the affiliate's, then the second tier's), for the one who sees the conversion."""
    return (Commission.objects.for_network(network).filter(conversion=conversion)
            .select_related("affiliate").order_by("tier"))
