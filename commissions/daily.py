"""Commissions per network-local day of their event (network.daily): kept by every service that writes or
changes a commission's money or rejects it, and rebuilt from the commissions."""

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce

from network import daily
from tracking.daily import cut_subs, day_names, grouped_rows, key_values

from .models import Commission, CommissionDay


def _event_at() -> Coalesce:
    """A commission's event time: its conversion's; a CPC commission's clicks' hour; else when it was written."""
    return Coalesce("conversion__created_at", "rollup__hour", "created_at")


def _commission_rows(queryset: QuerySet, tz: str) -> QuerySet:
    # The event's dimensions too: the conversion's, a CPC commission's rollup's.
    keys = key_values({**cut_subs(("conversion__", "rollup__")), "k_currency": F("currency")})
    rows = queryset.exclude(status=Commission.Status.REJECTED).annotate(at=_event_at())
    return grouped_rows(rows, "at", tz, keys, revenue=Sum(F("revenue") - F("reversed_revenue")),
                        payout=Sum(F("amount") - F("reversed_amount")))


def commissions_source(network_id: int, ids: list, tz: str) -> daily.Contribution:
    rows = _commission_rows(Commission.objects.filter(network_id=network_id, pk__in=ids), tz)
    return daily.grouped(rows, day_names(CommissionDay), CommissionDay.day_sums)


def commissions_from_rows(network_id: int, tz: str, since=None, until=None) -> QuerySet:
    """CommissionDay's rows recomputed from the commissions whose event falls in [since, until)."""
    rows = Commission.objects.filter(network_id=network_id)
    if since is not None:
        rows = rows.annotate(event_at=_event_at()).filter(event_at__gte=since, event_at__lt=until)
    return _commission_rows(rows, tz)


def commissions_added(network_id: int, ids: list) -> None:
    """Commissions just inserted, added to their days (in the writer's transaction)."""
    daily.added(CommissionDay, commissions_source, network_id, ids)


def commissions_kept(network_id: int, ids: list):
    """A block that changes these commissions' money or status keeps their days' sums."""
    return daily.kept(CommissionDay, commissions_source, network_id, ids)
