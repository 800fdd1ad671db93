"""A day's click partition gets statistics from the ingester as it fills (PostgreSQL).

Partitions are made empty a week ahead. With no statistics the planner took the (network, created_at) index for
the duplicate and velocity look-ups and walked every click of the network in the window for each visitor (0.8 s
a chunk of 500 visitors in bench/ingest.py). The ingester now analyses a young partition each time its rows have
doubled, and the look-ups then walk the visitor index."""

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracking import clicks_support
from tests.tracking.clicks_support import record_for
from tracking import ingest, partitions
from tracking.ids import click_id_time, new_click_id

program, link = clicks_support.program, clicks_support.link
# Not on Citus: its workers' autovacuum analyses the shards (tracking.partitions.analyze_young).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(bool(settings.CITUS_URL), reason="the ingester analyses nothing on Citus")]


def _records(link, count: int, start_ms: int, *, visitors: int | None = None) -> list[dict]:
    return [record_for(link, new_click_id(start_ms + n), ip_hash=f"visitor-{n % (visitors or count)}")
            for n in range(count)]


def _flush_statistics() -> None:
    """This connection's counters reach the shared statistics when it next goes idle (PostgreSQL 15)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _reltuples(name: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [name])
        return cursor.fetchone()[0]


@pytest.fixture
def day_ms():
    """Noon UTC twelve days ago, in a partition made new for the test (with no statistics, as on its day)."""
    moment = (int(time.time() // 86400) - 12) * 86400_000 + 12 * 3600_000
    day = click_id_time(new_click_id(moment)).date()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {partitions.partition_name(day)}")
    partitions._known.discard(day)
    partitions._written.clear()
    yield moment
    partitions._written.clear()


def test_a_young_partition_is_analysed_each_time_its_rows_double(link, day_ms, monkeypatch):
    monkeypatch.setattr(partitions, "FIRST_ANALYZE_ROWS", 20)
    name = partitions.partition_name(click_id_time(new_click_id(day_ms)).date())
    assert ingest.ingest_records(_records(link, 10, day_ms)).inserted == 10
    assert _reltuples(name) < 0  # 10 written: below the first threshold, never analysed
    assert ingest.ingest_records(_records(link, 20, day_ms + 1_000)).inserted == 20
    assert _reltuples(name) == 30  # 30 written: analysed
    assert ingest.ingest_records(_records(link, 25, day_ms + 2_000)).inserted == 25
    assert _reltuples(name) == 30  # 25 since, fewer than the 30 it has
    assert ingest.ingest_records(_records(link, 5, day_ms + 3_000)).inserted == 5
    assert _reltuples(name) == 60  # 30 since: its rows doubled


def test_rows_written_by_other_ingesters_count_too(link, day_ms, monkeypatch):
    monkeypatch.setattr(partitions, "FIRST_ANALYZE_ROWS", 30)
    day = click_id_time(new_click_id(day_ms)).date()
    name = partitions.partition_name(day)
    ingest.ingest_records(_records(link, 20, day_ms))
    assert _reltuples(name) < 0
    partitions._written.clear()  # as in another process: only PostgreSQL's counter knows the 20 rows
    _flush_statistics()
    monkeypatch.setattr(partitions, "FIRST_ANALYZE_ROWS", 20)
    assert partitions.analyze_young({day: 0}) == [name]
    assert _reltuples(name) == 20
    assert partitions.analyze_young({day: 0}) == []  # nothing new


def test_a_large_partition_is_left_to_autovacuum(link, day_ms, monkeypatch):
    monkeypatch.setattr(partitions, "FIRST_ANALYZE_ROWS", 5)
    monkeypatch.setattr(partitions, "YOUNG_ROWS", 10)
    name = partitions.partition_name(click_id_time(new_click_id(day_ms)).date())
    ingest.ingest_records(_records(link, 12, day_ms))
    assert _reltuples(name) == 12
    ingest.ingest_records(_records(link, 30, day_ms + 1_000))
    assert _reltuples(name) == 12  # 12 rows by its statistics: no longer young


def test_after_analysis_the_visitor_look_ups_walk_the_visitor_index(link, day_ms):
    """The look-ups of the next batch, explained: one probe of (network, ip_hash, program, created_at) per visitor,
    not the network's whole window through (network, created_at)."""
    day = click_id_time(new_click_id(day_ms)).date()
    ingest.ingest_records(_records(link, 2_000, day_ms, visitors=1_000))  # analysed after it (2,000 written)
    assert _reltuples(partitions.partition_name(day)) == 2_000
    with CaptureQueriesContext(connection) as queries:
        ingest.ingest_records(_records(link, 200, day_ms + 10_000, visitors=200))
    lookups = [q["sql"] for q in queries.captured_queries
               if "ip_hash" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")]
    assert lookups
    for sql in lookups:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "network_id_ip_hash_program_id" in plan, plan
        assert "network_id_created_at" not in plan, plan
