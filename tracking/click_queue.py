"""The click queue: a Redis Stream read by the ingesters' consumer group (at-least-once).

One stream entry holds one or more click records (field `d`: JSON of the field names and rows of values).
Writers: `enqueue()` (one XADD per click, answered after Redis has it) and `ClickBuffer` (the minimal /c/
handler's per-process batches of up to 64 clicks or 2 ms: a process killed hard loses at most that batch).
Either way, if Redis cannot be reached the clicks are written straight to
the database; if that fails too, they are logged as lost and the visitor is still redirected.
Reader: `drain()` (the `ingest_clicks` command, the `clicks_ingest` task) hands the entries to `ingest`.
"""

import atexit
import json
import logging
import operator
import os
import socket
import threading
import time

from django.conf import settings

from core.batching import Batcher
from tracking import ingest
from tracking.hotconf import conf

log = logging.getLogger(__name__)

GROUP = "ingesters"
FIELD = b"d"
# After a failure, skip Redis for this long (a down queue must not slow every redirect).
BREAKER_SECONDS = 1.0

_clients: dict[tuple[int, str], object] = {}
_down_until = 0.0


def queue_configured() -> bool:
    return bool(conf().CLICK_QUEUE_URL)


def client(read_timeout: float = 1.0):
    """This process's Redis client for the queue. Writers keep the short default (a redirect must not hang on
    it); a consumer that blocks on XREADGROUP asks for a timeout longer than its block."""
    import redis

    key = (os.getpid(), settings.CLICK_QUEUE_URL, read_timeout)
    conn = _clients.get(key)
    if conn is None:
        conn = redis.Redis.from_url(
            settings.CLICK_QUEUE_URL, socket_timeout=read_timeout, socket_connect_timeout=0.25,
            health_check_interval=30,
        )
        _clients[key] = conn
    return conn


# The record's fields, written once per entry ({"f": names, "r": rows of values}): half the encoding work
# of a list of dicts, and a reader never depends on the writer's field order.
FIELDS = ("click_id", "network_id", "program_id", "partnership_id", "link_id", "affiliate_id", "sub1", "sub2",
          "sub3", "sub4", "sub5", "ip_hash", "ip_truncated", "user_agent", "referrer", "country", "device",
          "off_target")
_values = operator.itemgetter(*FIELDS)


def encode(records: list[dict]) -> bytes:
    return json.dumps({"f": FIELDS, "r": [_values(r) for r in records]}, separators=(",", ":")).encode()


def decode(payload: bytes) -> list[dict]:
    data = json.loads(payload)
    names = data["f"]
    return [dict(zip(names, row, strict=True)) for row in data["r"]]


def _xadd(records: list[dict]) -> None:
    global _down_until
    if time.monotonic() < _down_until:
        raise ConnectionError("click queue marked down")
    try:
        client().xadd(conf().CLICK_STREAM, {FIELD: encode(records)})
    except Exception:
        _down_until = time.monotonic() + BREAKER_SECONDS
        raise


def write_direct(records: list[dict]) -> int:
    """The fallback: ingest the clicks now, in this process. Returns the rows inserted; never raises."""
    from django.db import close_old_connections, connection

    try:
        if not connection.in_atomic_block:
            # Outside Django's request cycle (the minimal handler, the writer thread): drop a stale connection.
            close_old_connections()
        return ingest.ingest_records(records).inserted
    except Exception:
        # Only ids here: a click record carries no raw IP, but the log stays minimal anyway.
        ids = ",".join(r.get("click_id", "?") for r in records)
        log.exception("click lost: queue and database both failed (%s)", ids)
        return 0


def enqueue(record: dict) -> None:
    """Queue one click before answering (or write it directly when there is no queue or it is down)."""
    if queue_configured():
        try:
            _xadd([record])
            return
        except Exception:
            log.warning("click queue unavailable, writing the click directly", exc_info=True)
    write_direct([record])


class ClickBuffer(Batcher):
    """The minimal /c/ handler's batches of clicks into stream entries (64 clicks or 2 ms). Bound on loss if the
    process is killed hard: the unwritten batch, at most MAX_BATCH clicks or MAX_AGE seconds of them."""

    MAX_BATCH = 64
    MAX_AGE = 0.002
    THREAD_NAME = "click-writer"

    def write(self, batch: list[dict]) -> None:
        try:
            _xadd(batch)
        except Exception:
            log.warning("click queue unavailable, writing %d clicks directly", len(batch), exc_info=True)
            write_direct(batch)
            if threading.current_thread() is not threading.main_thread():
                from django.db import connections

                connections.close_all()  # this thread's own connections: do not hold one open between outages


buffer = ClickBuffer()
atexit.register(buffer.flush)


# --- the consumer side -------------------------------------------------------------------
def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(conn) -> None:
    import redis

    try:
        conn.xgroup_create(settings.CLICK_STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read(conn, consumer: str, count: int, block_ms: int | None, stale_ms: int) -> list[tuple[bytes, list[dict]]]:
    """Up to `count` entries for this consumer: stale pending entries of a dead consumer first (XAUTOCLAIM),
    then new ones (XREADGROUP). Each as (entry id, click records)."""
    entries = []
    _next, claimed, *_ = conn.xautoclaim(settings.CLICK_STREAM, GROUP, consumer, stale_ms, "0-0", count=count)
    entries.extend(claimed)
    if not entries:
        result = conn.xreadgroup(GROUP, consumer, {settings.CLICK_STREAM: ">"}, count=count, block=block_ms)
        for _stream, stream_entries in result or []:
            entries.extend(stream_entries)
    out = []
    for entry_id, fields in entries:
        payload = (fields or {}).get(FIELD)
        try:
            records = decode(payload) if payload else []
        except (ValueError, KeyError, TypeError):
            log.error("unreadable click queue entry %s dropped", entry_id)
            records = []
        out.append((entry_id, records))
    return out


def ack(conn, entry_ids: list[bytes]) -> None:
    """Acknowledge and delete entries whose clicks are committed (the stream does not grow without end)."""
    if entry_ids:
        pipe = conn.pipeline(transaction=False)
        pipe.xack(settings.CLICK_STREAM, GROUP, *entry_ids)
        pipe.xdel(settings.CLICK_STREAM, *entry_ids)
        pipe.execute()


def drain(*, batch: int = 2000, block_ms: int | None = None, stale_ms: int = 60_000, max_seconds: float | None = None,
          consumer: str | None = None, stop=None, total: ingest.IngestResult | None = None) -> ingest.IngestResult:
    """Read the stream until it is empty (or `max_seconds` pass, or `stop()` says so); commit, then ack.

    `block_ms` makes the loop wait for new entries instead of returning when the stream is empty. Counts go
    into `total` as batches commit (so they survive an exception in a later batch).
    """
    total = total if total is not None else ingest.IngestResult()
    if not queue_configured():
        return total
    conn = client(read_timeout=(block_ms or 0) / 1000 + 10)
    ensure_group(conn)
    consumer = consumer or consumer_name()
    started = time.monotonic()
    # Entries per read; an entry holds up to ClickBuffer.MAX_BATCH clicks (the buffered writer) or one (enqueue),
    # so start from the larger size and adapt: what a crash leaves unacknowledged stays about one batch.
    per_read = max(1, batch // ClickBuffer.MAX_BATCH)
    while not (stop and stop()):
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        entries = read(conn, consumer, per_read, block_ms, stale_ms)
        if not entries:
            if block_ms is None:
                break
            continue
        records = [record for _entry_id, entry_records in entries for record in entry_records]
        per_read = max(1, min(batch, batch * len(entries) // max(1, len(records))))
        for start in range(0, len(records), batch):
            part = ingest.ingest_records(records[start : start + batch])
            total.received += part.received
            total.inserted += part.inserted
            total.duplicates += part.duplicates
            total.bots += part.bots
            total.velocity += part.velocity
        ack(conn, [entry_id for entry_id, _records in entries])
    return total
