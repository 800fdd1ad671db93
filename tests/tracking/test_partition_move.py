"""A click read while its day moves out of the DEFAULT partition into a new one is still found (PostgreSQL).

Without the parent table locked for the move, a query planned before the new partition is attached but run
after (READ COMMITTED takes a fresh snapshot to execute) reads only the DEFAULT partition, whose rows are gone:
a conversion posted at that moment would miss its click."""

import threading
import time

import psycopg2
import pytest
from django.db import connection, connections, transaction

from tests.tracking import clicks_support
from tests.tracking.clicks_support import partition_of, record_for
from tracking import ingest, partitions
from tracking.ids import click_id_time, new_click_id

program, link = clicks_support.program, clicks_support.link
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock(monitor, pid: int) -> bool:
    with monitor.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def test_a_click_read_during_the_move_out_of_the_default_partition_is_found(link):
    click_id = new_click_id(int((time.time() - 20 * 86400) * 1000))
    day = click_id_time(click_id).date()
    partitions._known.add(day)  # pretend the partition exists: the click goes to the DEFAULT partition
    ingest.ingest_records([record_for(link, click_id)])
    params = connection.get_connection_params()
    moved, release, failures = threading.Event(), threading.Event(), []

    def move():
        try:
            with transaction.atomic():  # the move holds its locks until this commits
                assert partitions.ensure_partition(day) is True
                moved.set()
                release.wait(10)
        except Exception as exc:  # reported by the main thread
            failures.append(exc)
            moved.set()
        finally:
            connections.close_all()

    found = []
    reader = psycopg2.connect(**params)
    reader.autocommit = True
    monitor = psycopg2.connect(**params)
    monitor.autocommit = True

    def read():
        with reader.cursor() as cursor:
            cursor.execute("SELECT click_id FROM tracking_click WHERE click_id = %s AND created_at BETWEEN %s AND %s",
                           [click_id, click_id_time(click_id), click_id_time(click_id)])
            found.extend(row[0] for row in cursor.fetchall())

    mover = threading.Thread(target=move)
    mover.start()
    try:
        assert moved.wait(10) and not failures, failures
        reading = threading.Thread(target=read)
        reading.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(monitor, reader.info.backend_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_a_lock(monitor, reader.info.backend_pid)  # the reader came during the move
        release.set()
        reading.join(10)
        mover.join(10)
    finally:
        release.set()
        mover.join(10)
        reader.close()
        monitor.close()
    assert not failures, failures
    assert found == [click_id]
    assert partition_of(click_id) == partitions.partition_name(day)
