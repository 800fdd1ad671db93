"""Daily partitions of the click table on PostgreSQL (created ahead and on demand; a DEFAULT partition
catches anything else) and click retention (whole partitions dropped when every network allows it)."""

import logging
import re
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

TABLE = "tracking_click"
DEFAULT = "tracking_click_default"
_NAME_RE = re.compile(r"^tracking_click_p(\d{8})$")
_known: set[date] = set()
_partitioned: bool | None = None


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
        return cursor.fetchone() is not None


def existing() -> dict[date, str]:
    """The daily partitions there are, by day."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        out = {}
        for (name,) in cursor.fetchall():
            match = _NAME_RE.match(name)
            if match:
                out[datetime.strptime(match.group(1), "%Y%m%d").date()] = name  # noqa: DTZ007
        return out


def _bounds(day: date) -> tuple[str, str]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start.isoformat(), (start + timedelta(days=1)).isoformat()


def ensure_partition(day: date) -> bool:
    """Create the partition of `day` if missing, moving its rows out of the DEFAULT partition. True if created."""
    name = partition_name(day)
    low, high = _bounds(day)
    with transaction.atomic(), connection.cursor() as cursor:
        # Citus: one connection a worker for the whole transaction, so it accepts the partition's DDL after the
        # multi-shard reads and DELETE below (PostgreSQL keeps the setting, unused, until the commit).
        cursor.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        # One creator at a time; ingesters keep inserting into other partitions meanwhile.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return False
        cursor.execute(f"SELECT 1 FROM {DEFAULT} WHERE created_at >= %s AND created_at < %s LIMIT 1",  # noqa: S608
                       [low, high])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)", [low, high])
        else:
            # Hold readers off for the move: a query planned against the old partition list but run after the
            # commit (READ COMMITTED takes a fresh snapshot to execute) would read only the emptied DEFAULT
            # partition and miss the day's clicks. Rare: the beat creates partitions a week ahead.
            # The day's rows wait in a temporary table while the partition is created empty, then go into it: on
            # Citus, attaching a table that has rows copies them to new shards over other connections of this
            # transaction, which its distributed deadlock detector cancels.
            cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"CREATE TEMPORARY TABLE click_move (LIKE {TABLE}) ON COMMIT DROP")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE created_at >= %s AND created_at < %s RETURNING *) "  # noqa: S608
                "INSERT INTO click_move SELECT * FROM moved",
                [low, high],
            )
            cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)", [low, high])
            cursor.execute(f"INSERT INTO {name} SELECT * FROM click_move")  # noqa: S608
            cursor.execute("DROP TABLE click_move")
    return True


def ensure_for(times) -> None:
    """The ingester's on-demand check: partitions for the days of these click times (known days are free)."""
    global _partitioned
    if _partitioned is None:
        _partitioned = is_partitioned()
    if not _partitioned:
        return
    for day in {t.astimezone(UTC).date() for t in times} - _known:
        try:
            ensure_partition(day)
            _known.add(day)
        except Exception:
            # The DEFAULT partition takes the rows meanwhile; the next batch or the beat task tries again.
            log.warning("could not create click partition for %s", day, exc_info=True)


# A day's partition is made empty a week ahead and has no statistics when its day comes. Until it has some, the
# planner takes any index for a tiny table: the duplicate and velocity look-ups then walked the network's whole
# window through (network, created_at) for each visitor (0.8 s a chunk of 500 visitors, not 2 ms), and autovacuum
# looks only once a minute. The ingester analyses a young partition itself, each time its rows have doubled.
YOUNG_ROWS = 100_000
FIRST_ANALYZE_ROWS = 1_000
# Rows this process wrote to each partition since its statistics last changed: (reltuples then, rows since).
# PostgreSQL's own counter (shared by every ingester) reaches the statistics a second or more late.
_written: dict[str, tuple[float, int]] = {}


def analyze_young(written: dict[date, int]) -> list[str]:
    """ANALYZE the partitions of these days (with the rows just written to each) that hold fewer than YOUNG_ROWS
    rows by their statistics and have had at least max(FIRST_ANALYZE_ROWS, those rows) written since their last
    analysis: the larger of PostgreSQL's count and this process's. Returns the partitions analysed. Nothing on
    Citus: the rows are on the workers, whose autovacuum analyses the shards, and the coordinator's table keeps no
    row count to tell a young partition by."""
    by_name = {partition_name(day): rows for day, rows in written.items()}
    if not by_name:
        return []
    due = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples, pg_stat_get_mod_since_analyze(oid) FROM pg_class "
            "WHERE relname = ANY(%s) AND relkind = 'r' "
            "AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') ORDER BY relname",
            [sorted(by_name)],
        )
        for name, reltuples, modified in cursor.fetchall():
            seen, since = _written.get(name, (reltuples, 0))
            since = (since if seen == reltuples else 0) + by_name[name]
            _written[name] = (reltuples, since)
            if reltuples < YOUNG_ROWS and max(modified, since) >= max(FIRST_ANALYZE_ROWS, reltuples):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
                due.append(name)
                _written.pop(name)
    return due


def ensure_ahead(days: int = 7) -> int:
    """Partitions from today to `days` ahead (a beat task). Returns how many were created."""
    if not is_partitioned():
        return 0
    today = timezone.now().astimezone(UTC).date()
    created = 0
    for offset in range(-1, days + 1):
        day = today + timedelta(days=offset)
        created += ensure_partition(day)
        _known.add(day)
    return created


def purge_expired(now: datetime | None = None) -> int:
    """Delete raw clicks older than their network's retention (the rollups, ClickRollup and LinkRollup, stay).
    Whole daily partitions are dropped once every network's retention has passed them; the rest goes by DELETE.
    Returns rows deleted (rows of dropped partitions included)."""
    from network.models import Network
    from tracking.models import Click

    now = now or timezone.now()
    retention: dict[int, list[int]] = {}
    for network_id, days in Network.objects.values_list("id", "click_retention_days"):
        retention.setdefault(days, []).append(network_id)
    if not retention:
        return 0
    deleted = 0
    if is_partitioned():
        oldest_allowed = (now - timedelta(days=max(retention))).astimezone(UTC).date()
        for day, name in sorted(existing().items()):
            if day + timedelta(days=1) <= oldest_allowed:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"SELECT COUNT(*) FROM {name}")  # noqa: S608 (a partition we named)
                    deleted += cursor.fetchone()[0]
                    # Deferred foreign-key checks of rows written earlier in this transaction block a DROP.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
                    cursor.execute(f"DROP TABLE {name}")
                _known.discard(day)
    for days, network_ids in retention.items():
        count, _ = Click.objects.filter(network_id__in=network_ids, created_at__lt=now - timedelta(days=days)).delete()
        deleted += count
    return deleted
