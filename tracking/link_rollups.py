"""LinkRollup (clicks per tracking link and hour) from the raw clicks: the fill of a network's existing clicks (the
migration that made the table) and the repair of the hours its raw clicks still cover. The ingester writes the
same sums as it goes (tracking.ingest); `tracking.daily.counts_unique` is the one definition of a unique click."""

from datetime import UTC, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from network.models import Network
from programs.models import TrackingLink

from .models import Click, LinkRollup

# The raw-click form of `tracking.daily.counts_unique` (neither a duplicate, nor a bot, nor off its targeting).
UNIQUE = Q(is_unique=True, is_bot=False, off_target="")


def _grouped(network_id: int, since=None):
    clicks = Click.objects.filter(network_id=network_id,
                                  link_id__in=TrackingLink.objects.filter(network_id=network_id).values("pk"))
    if since is not None:
        clicks = clicks.filter(created_at__gte=since)
    return (clicks.annotate(k_hour=TruncHour("created_at", tzinfo=UTC)).values("link_id", "k_hour")
            .annotate(n=Count("pk"), u=Count("pk", filter=UNIQUE)).order_by())


@transaction.atomic
def link_rollups_rebuild(network_id: int) -> int:
    """Rewrite the network's LinkRollup rows from its raw clicks for the hours its click retention has not reached:
    those after the hour of `now - click_retention_days` (the purge deletes clicks older than that, so an hour at
    or before it may have lost some). Older rows are kept as they are: their clicks are gone. An empty table (the
    migration's fill) takes every hour. Returns the rows written. One INSERT ... SELECT: no click passes through
    Python."""
    rows = LinkRollup.objects.filter(network_id=network_id)
    since = None
    if rows.exists():
        days = Network.objects.values_list("click_retention_days", flat=True).get(pk=network_id)
        since = (timezone.now() - timedelta(days=days)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        since += timedelta(hours=1)
        rows.filter(hour__gte=since).delete()
    sql, params = _grouped(network_id, since).query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(LinkRollup._meta.db_table)} (network_id, link_id, hour, clicks, unique_clicks) "  # noqa: S608
            f"SELECT %s, g.link_id, g.k_hour, g.n, g.u FROM ({sql}) g",
            [network_id, *params],
        )
        return cursor.rowcount
