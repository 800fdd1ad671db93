"""The click queue: Redis Streams read by the ingesters' consumer group (at-least-once), sharded by network.

`CLICK_QUEUE_SHARDS` streams (shard 0 is `CLICK_STREAM` itself, shard i > 0 is `CLICK_STREAM:i`), each with its
own consumer group; a click goes to the shard of its network (`network_id % shards`), shard i lives on Redis node
`CLICK_QUEUE_NODES[i % nodes]` (default: all on `CLICK_QUEUE_URL`). So ingesters (each told which shards to read)
and Redis nodes scale out, and one network's clicks stay in one stream.
One stream entry holds one or more click records (field `d`: JSON of the field names and rows of values).
Writers: `enqueue()` (one XADD per click, answered after Redis has it) and `ClickBuffer` (the minimal /c/
handler's per-process batches of up to 64 clicks or 2 ms: a process killed hard loses at most that batch; a
batch is split by shard, one pipeline per node). Either way, the clicks of a node that cannot be reached are
written straight to the database; if that fails too, they are logged as lost and the visitor is still redirected.
Reader: `drain()` (the `ingest_clicks` command, the `clicks_ingest` task) hands the entries to `ingest`.
"""

import atexit
import json
import logging
import operator
import os
import re
import socket
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from core.batching import Batcher
from tracking import ingest
from tracking.hotconf import conf

log = logging.getLogger(__name__)

GROUP = "ingesters"
FIELD = b"d"
# After a failure, skip Redis for this long (a down queue must not slow every redirect).
BREAKER_SECONDS = 1.0

_clients: dict[tuple[int, str, float], object] = {}
# Per node URL: skip it until this monotonic time (the circuit breaker).
_breaker: dict[str, float] = {}


def queue_configured() -> bool:
    return bool(conf().CLICK_QUEUE_URL)


def reset_breakers() -> None:
    """Forget which nodes were marked down (tests, after pointing the queue elsewhere)."""
    _breaker.clear()


@dataclass(frozen=True)
class Shard:
    index: int
    key: str  # the stream's key
    url: str  # its Redis node


def stream_key(base: str, index: int) -> str:
    # Shard 0 keeps the unsharded name: going from one shard to N needs no migration (what is queued there is
    # shard 0's), and a shard's key never depends on the shard count.
    return base if index == 0 else f"{base}:{index}"


def shard_index(network_id: int, count: int) -> int:
    """A network's shard: stable across processes and restarts (no per-process hash seed)."""
    return network_id % count


_layout: tuple[object, list[Shard]] = (None, [])


def shards() -> list[Shard]:
    """Every shard of the queue as configured now (rebuilt when a setting changes)."""
    global _layout
    hot = conf()
    if _layout[0] is not hot:
        nodes = list(hot.CLICK_QUEUE_NODES) or [hot.CLICK_QUEUE_URL]
        count = max(1, int(hot.CLICK_QUEUE_SHARDS))
        _layout = (hot, [Shard(i, stream_key(hot.CLICK_STREAM, i), nodes[i % len(nodes)]) for i in range(count)])
    return _layout[1]


def parse_shards(spec: str | None) -> list[int]:
    """Shard indices from `"0,2,4-7"`; empty or `all`: every shard. ValueError for anything else."""
    count = len(shards())
    if not spec or spec.strip().lower() == "all":
        return list(range(count))
    chosen = []
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise ValueError(f"not a shard or range of shards: {part.strip()!r}")
        first, last = int(match[1]), int(match[2] or match[1])
        if first > last or last >= count:
            raise ValueError(f"shards {part.strip()} outside 0-{count - 1} (CLICK_QUEUE_SHARDS={count})")
        chosen.extend(i for i in range(first, last + 1) if i not in chosen)
    return chosen


def client(read_timeout: float = 1.0, url: str | None = None):
    """This process's Redis client for a queue node (default: shard 0's). Writers keep the short default (a
    redirect must not hang on it); a consumer that blocks on XREADGROUP asks for a timeout longer than its block."""
    import redis

    url = url or shards()[0].url
    key = (os.getpid(), url, read_timeout)
    conn = _clients.get(key)
    if conn is None:
        conn = redis.Redis.from_url(url, socket_timeout=read_timeout, socket_connect_timeout=0.25,
                                    health_check_interval=30)
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


def _xadd(url: str, entries: list[tuple[str, list[dict]]]) -> None:
    """One entry per (stream key, records) on one node: a single XADD, or one pipeline for several shards."""
    if time.monotonic() < _breaker.get(url, 0.0):
        raise ConnectionError("click queue node marked down")
    try:
        conn = client(url=url)
        if len(entries) == 1:
            conn.xadd(entries[0][0], {FIELD: encode(entries[0][1])})
        else:
            pipe = conn.pipeline(transaction=False)
            for key, records in entries:
                pipe.xadd(key, {FIELD: encode(records)})
            pipe.execute()
    except Exception:
        _breaker[url] = time.monotonic() + BREAKER_SECONDS
        raise


def _queue(records: list[dict]) -> list[dict]:
    """XADD the records to their networks' shards; returns those whose node failed (for the direct write).
    A node that failed after taking part of a pipeline costs nothing: the ingester stores a click id once."""
    layout = shards()
    if len(layout) == 1:
        entries = {layout[0].url: [(layout[0].key, records)]}
    else:
        by_shard: dict[int, list[dict]] = {}
        for record in records:
            by_shard.setdefault(record["network_id"] % len(layout), []).append(record)
        entries = {}
        for index, shard_records in by_shard.items():
            entries.setdefault(layout[index].url, []).append((layout[index].key, shard_records))
    failed = []
    for url, node_entries in entries.items():
        try:
            _xadd(url, node_entries)
        except Exception:
            lost = [record for _key, shard_records in node_entries for record in shard_records]
            log.warning("click queue unavailable, writing %d clicks directly", len(lost), exc_info=True)
            failed.extend(lost)
    return failed


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
    if not queue_configured() or _queue([record]):
        write_direct([record])


class ClickBuffer(Batcher):
    """The minimal /c/ handler's batches of clicks into stream entries (64 clicks or 2 ms). Bound on loss if the
    process is killed hard: the unwritten batch, at most MAX_BATCH clicks or MAX_AGE seconds of them."""

    MAX_BATCH = 64
    MAX_AGE = 0.002
    THREAD_NAME = "click-writer"

    def write(self, batch: list[dict]) -> None:
        failed = _queue(batch)
        if failed:
            write_direct(failed)
            if threading.current_thread() is not threading.main_thread():
                from django.db import connections

                connections.close_all()  # this thread's own connections: do not hold one open between outages


buffer = ClickBuffer()
atexit.register(buffer.flush)


# --- the consumer side -------------------------------------------------------------------
def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(conn, key: str | None = None) -> None:
    """The consumer group of one shard's stream (default: shard 0's), created with the stream if missing."""
    import redis

    try:
        conn.xgroup_create(key or settings.CLICK_STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _decoded(entries) -> list[tuple[bytes, list[dict]]]:
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


def read(conn, consumer: str, count: int, block_ms: int | None, stale_ms: int,
         key: str | None = None) -> list[tuple[bytes, list[dict]]]:
    """Up to `count` entries of one shard's stream (default: shard 0's) for this consumer: stale pending entries
    of a dead consumer first (XAUTOCLAIM), then new ones (XREADGROUP). Each as (entry id, click records)."""
    key = key or settings.CLICK_STREAM
    entries = []
    _next, claimed, *_ = conn.xautoclaim(key, GROUP, consumer, stale_ms, "0-0", count=count)
    entries.extend(claimed)
    if not entries:
        result = conn.xreadgroup(GROUP, consumer, {key: ">"}, count=count, block=block_ms)
        for _stream, stream_entries in result or []:
            entries.extend(stream_entries)
    return _decoded(entries)


def ack(conn, entry_ids: list[bytes], key: str | None = None) -> None:
    """Acknowledge and delete entries whose clicks are committed (the stream does not grow without end)."""
    if entry_ids:
        key = key or settings.CLICK_STREAM
        pipe = conn.pipeline(transaction=False)
        pipe.xack(key, GROUP, *entry_ids)
        pipe.xdel(key, *entry_ids)
        pipe.execute()


def _ingest(conn, key, entries: list[tuple[bytes, list[dict]]], batch: int, total: ingest.IngestResult) -> int:
    """Commit the entries' clicks, then acknowledge them; returns the entries to read next time."""
    records = [record for _entry_id, entry_records in entries for record in entry_records]
    for start in range(0, len(records), batch):
        part = ingest.ingest_records(records[start : start + batch])
        total.received += part.received
        total.inserted += part.inserted
        total.duplicates += part.duplicates
        total.bots += part.bots
        total.velocity += part.velocity
    ack(conn, [entry_id for entry_id, _records in entries], key)
    return max(1, min(batch, batch * len(entries) // max(1, len(records))))


def drain(*, batch: int = 2000, block_ms: int | None = None, stale_ms: int = 60_000, max_seconds: float | None = None,
          consumer: str | None = None, stop=None, total: ingest.IngestResult | None = None,
          shard_indices: list[int] | None = None) -> ingest.IngestResult:
    """Read the shards' streams (default: all) until they are empty (or `max_seconds` pass, or `stop()` says so);
    commit, then ack.

    Each pass reads every shard in turn (claiming a dead consumer's stale entries first); `block_ms` makes an
    idle pass wait for new entries on all of them (one blocking read per node) instead of returning. Counts go
    into `total` as batches commit (so they survive an exception in a later batch).
    """
    total = total if total is not None else ingest.IngestResult()
    if not queue_configured():
        return total
    layout = shards()
    chosen = [layout[i] for i in (range(len(layout)) if shard_indices is None else shard_indices)]
    read_timeout = (block_ms or 0) / 1000 + 10
    conns = {shard.url: client(read_timeout=read_timeout, url=shard.url) for shard in chosen}
    by_node: dict[str, list[str]] = {}
    for shard in chosen:
        ensure_group(conns[shard.url], shard.key)
        by_node.setdefault(shard.url, []).append(shard.key)
    consumer = consumer or consumer_name()
    started = time.monotonic()

    def done() -> bool:
        return bool(stop and stop()) or (max_seconds is not None and time.monotonic() - started > max_seconds)

    # Entries per read; an entry holds up to ClickBuffer.MAX_BATCH clicks (the buffered writer) or one (enqueue),
    # so start from the larger size and adapt: what a crash leaves unacknowledged stays about one batch.
    per_read = max(1, batch // ClickBuffer.MAX_BATCH)
    while not done():
        busy = False
        for shard in chosen:
            entries = read(conns[shard.url], consumer, per_read, None, stale_ms, shard.key)
            if entries:
                busy = True
                per_read = _ingest(conns[shard.url], shard.key, entries, batch, total)
            if done():
                return total
        if busy:
            continue
        if block_ms is None:
            break
        for url, keys in by_node.items():
            result = conns[url].xreadgroup(GROUP, consumer, dict.fromkeys(keys, ">"), count=per_read,
                                           block=max(1, block_ms // len(by_node)))
            for key, stream_entries in result or []:
                per_read = _ingest(conns[url], key, _decoded(stream_entries), batch, total)
    return total
