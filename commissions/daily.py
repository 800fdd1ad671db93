"""Commissions per network-local day of their event (network.daily): kept by every service that writes or
changes a commission's money or rejects it, and rebuilt from the commissions."""

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from network import daily
from programs.models import SUB_FIELDS
from tracking.daily import cut_subs, day_names, grouped_rows, key_values
from tracking.models import ClickRollup, Conversion

from .models import Commission, CommissionDay

# Where a commission's event columns come from: joins along its conversion and rollup (a whole network's rows),
# or the annotations of `_with_event_columns` (a few rows by id).
JOINED = ("conversion__", "rollup__")
PROBED = ("v_", "r_")


def _event_at(prefixes: tuple[str, str] = JOINED) -> Coalesce:
    """A commission's event time: its conversion's; a CPC commission's clicks' hour; else when it was written."""
    conversion, rollup = prefixes
    return Coalesce(f"{conversion}created_at", f"{rollup}hour", "created_at")


def _commission_rows(queryset: QuerySet, tz: str, prefixes: tuple[str, str] = JOINED) -> QuerySet:
    # The event's dimensions too: the conversion's, a CPC commission's rollup's.
    keys = key_values({**cut_subs(prefixes), "k_currency": F("currency")})
    rows = queryset.exclude(status=Commission.Status.REJECTED).annotate(at=_event_at(prefixes))
    return grouped_rows(rows, "at", tz, keys, revenue=Sum(F("revenue") - F("reversed_revenue")),
                        payout=Sum(F("amount") - F("reversed_amount")))


def _with_event_columns(queryset: QuerySet) -> QuerySet:
    """The conversion's and the rollup's columns the day tables key on, each read by a subquery on the row's key
    (network_id, id). A batch's few commissions are then found by key lookups whatever the planner believes of the
    network's size: joined, a network growing faster than its statistics (a new network, an import) had its
    conversions walked once per commission."""
    conversion = Conversion.objects.filter(network_id=OuterRef("network_id"), pk=OuterRef("conversion_id")).order_by()
    rollup = ClickRollup.objects.filter(network_id=OuterRef("network_id"), pk=OuterRef("rollup_id")).order_by()
    columns = (*SUB_FIELDS, "country")
    return queryset.annotate(
        v_created_at=Subquery(conversion.values("created_at")), r_hour=Subquery(rollup.values("hour")),
        **{f"v_{name}": Subquery(conversion.values(name)) for name in columns},
        **{f"r_{name}": Subquery(rollup.values(name)) for name in columns})


def commissions_source(network_id: int, ids: list, tz: str) -> daily.Contribution:
    rows = _with_event_columns(Commission.objects.for_network(network_id).with_ids(ids))
    return daily.grouped(_commission_rows(rows, tz, PROBED), day_names(CommissionDay), CommissionDay.day_sums)


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
