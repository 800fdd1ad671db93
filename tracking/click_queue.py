"""The click queue: a Redis Stream read by the ingesters' consumer group (at-least-once).

One stream entry holds one or more click records as a JSON list (field `d`). Writers: `enqueue()` (one
XADD per click, answered after Redis has it) and `ClickBuffer` (the minimal /c/ handler's per-process
writer thread: it pipelines what the request threads hand it, so a process killed hard loses at most the
clicks of one in-flight write). Either way, if Redis cannot be reached the clicks are written straight to
the database; if that fails too, they are logged as lost and the visitor is still redirected.
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

log = logging.getLogger(__name__)

GROUP = "ingesters"
FIELD = b"d"
# After a failure, skip Redis for this long (a down queue must not slow every redirect).
BREAKER_SECONDS = 1.0

_clients: dict[tuple[int, str], object] = {}
_down_until = 0.0


def queue_configured() -> bool:
    return bool(settings.CLICK_QUEUE_URL)


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
          "sub3", "sub4", "sub5", "ip_hash", "ip_truncated", "user_agent", "referrer", "country")
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
        client().xadd(settings.CLICK_STREAM, {FIELD: encode(records)})
    except Exception:
        _down_until = time.monotonic() + BREAKER_SECONDS
        raise


def write_direct(records: list[dict]) -> int:
    """The fallback: ingest the clicks now, in this process. Returns the rows inserted; never raises."""
    from django.db import close_old_connections, connection

    from tracking.ingest import ingest_records

    try:
        if not connection.in_atomic_block:
            # Outside Django's request cycle (the minimal handler, the writer thread): drop a stale connection.
            close_old_connections()
        return ingest_records(records).inserted
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


class ClickBuffer:
    """A writer thread per process: request threads append, the thread writes whatever has gathered as one
    stream entry as soon as the previous write returned (no timer: the bound on loss is one round trip)."""

    MAX_BATCH = 500

    def __init__(self):
        self._cond = threading.Condition()
        self._pending: list[dict] = []
        self._inflight = 0
        self._idle = False
        self._pid = None
        self._thread = None

    def put(self, record: dict) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._start()
            self._pending.append(record)
            if self._idle:  # waking the thread costs; while it is writing it takes the rest when done
                self._cond.notify()

    def _start(self) -> None:
        # Called with the lock held; also after a fork (the parent's thread does not exist in the child).
        self._pid = os.getpid()
        self._pending = []
        self._thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
        self._thread.start()

    def _take(self) -> list[dict]:
        batch, self._pending = self._pending[: self.MAX_BATCH], self._pending[self.MAX_BATCH:]
        self._inflight = len(batch)
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._idle = True
                    self._cond.wait()
                self._idle = False
                batch = self._take()
            self._write(batch)
            with self._cond:
                self._inflight = 0
                self._cond.notify_all()

    @staticmethod
    def _write(batch: list[dict]) -> None:
        try:
            _xadd(batch)
        except Exception:
            log.warning("click queue unavailable, writing %d clicks directly", len(batch), exc_info=True)
            write_direct(batch)
            if threading.current_thread() is not threading.main_thread():
                from django.db import connections

                connections.close_all()  # this thread's own connections: do not hold one open between outages

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything handed over so far is written (shutdown, tests). True when done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._thread is None or self._pid != os.getpid():
                batch, self._pending = self._pending, []
            else:
                while (self._pending or self._inflight) and time.monotonic() < deadline:
                    self._cond.wait(0.05)
                return not (self._pending or self._inflight)
        if batch:
            self._write(batch)
        return True


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
