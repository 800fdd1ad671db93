"""IP velocity at ingestion: a click is flagged when its visitor (IP hash) clicked the same program more than the
program's limit within its window, counting stored clicks and the batch's own, with set-based queries per batch."""

from bisect import bisect_left, bisect_right, insort
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import connection, models

from programs.models import Program

from .models import Click

_CHUNK = 500
# Rows one probe reads beyond the program's limit: a visitor with fewer stored clicks than limit + this in the
# window is read whole, so the same rows answer the duplicate check too.
_SLACK = 8


def program_limits(records: list[dict]) -> dict[int, tuple[int, timedelta]]:
    """(limit, window) of each program in the batch whose velocity check is on."""
    by_network: dict[int, set[int]] = {}
    for record in records:
        by_network.setdefault(record["network_id"], set()).add(record["program_id"])
    limits = {}
    for network_id, program_ids in by_network.items():
        rows = Program.objects.for_network(network_id).filter(pk__in=program_ids, velocity_max_clicks__gt=0)
        for pk, limit, minutes in rows.values_list("id", "velocity_max_clicks", "velocity_window_minutes"):
            limits[pk] = (limit, timedelta(minutes=minutes))
    return limits


def _aware(value) -> datetime:
    if isinstance(value, str):  # SQLite answers raw queries with text (UTC)
        value = models.DateTimeField().to_python(value)
    # `tzinfo is None`, not `timezone.is_naive` (which calls utcoffset(): 2.5 us a row, a third of the look-up).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _walk(keys: list[tuple], rows_per_key, since: datetime, until: datetime) -> tuple[dict[tuple, list], set]:
    """The stored clicks (link id, click id, time) of each (network, program, visitor) in [since, until], newest
    first, and the keys whose walk stopped at `rows_per_key(key)` rows (PostgreSQL; SQLite reads every row).

    One backward walk of the visitor index (network, ip_hash, program, created_at) per key, so a bot with a
    million clicks in the window costs what a person does. The index leads with the network: with the constant
    `network_id = %s` (Citus routes by it) the planner would otherwise take (network, created_at) on a day's
    partition analysed early and walk every click of the network in the window for each visitor."""
    table = Click._meta.db_table
    bounds = [connection.ops.adapt_datetimefield_value(since), connection.ops.adapt_datetimefield_value(until)]
    found: dict[tuple, list] = {key: [] for key in keys}
    cut: set[tuple] = set()
    # One statement per network (and chunk, on SQLite): Citus runs each on that network's shard (the constant
    # network).
    per_network: dict[int, list] = {}
    for key in keys:
        per_network.setdefault(key[0], []).append(key)
    if connection.vendor == "postgresql":
        # The keys go as three arrays, and each row names its key by position: one parameter a column instead of
        # four a key, and no key's values read back a row.
        sql = (
            "SELECT k.i, c.link_id, c.click_id, c.created_at, k.n "  # noqa: S608 (our names, values as params)
            "FROM unnest(%s::bigint[], %s::text[], %s::int[]) WITH ORDINALITY AS k(program_id, ip_hash, n, i) "
            "CROSS JOIN LATERAL (SELECT c.link_id, c.click_id, c.created_at "
            f"FROM {table} c WHERE c.network_id = %s AND c.ip_hash = k.ip_hash AND c.program_id = k.program_id "
            "AND c.created_at >= %s AND c.created_at <= %s ORDER BY c.created_at DESC LIMIT k.n) c"
        )
        for network_id, chunk in sorted(per_network.items()):
            params = [_ints([key[1] for key in chunk]), _texts([key[2] for key in chunk]),
                      _ints([rows_per_key(key) for key in chunk]), network_id, *bounds]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                answer = cursor.fetchall()
            for i, link_id, click_id, created_at, n in answer:  # psycopg2 answers aware times
                key = chunk[i - 1]
                rows = found[key]
                rows.append((link_id, click_id, created_at))
                if len(rows) >= n:
                    cut.add(key)
        return found, cut
    chunks = [(network_id, network_keys[start : start + _CHUNK]) for network_id, network_keys in
              sorted(per_network.items()) for start in range(0, len(network_keys), _CHUNK)]
    for _network_id, chunk in chunks:
        sql = (
            f"SELECT network_id, program_id, ip_hash, link_id, click_id, created_at FROM {table} "  # noqa: S608
            "WHERE created_at >= %s AND created_at <= %s AND (network_id, program_id, ip_hash) IN "
            f"({', '.join(['(%s, %s, %s)'] * len(chunk))})"
        )
        params = bounds + [value for key in chunk for value in key]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for network_id, program_id, ip_hash, link_id, click_id, created_at in cursor.fetchall():
                found[(network_id, program_id, ip_hash)].append((link_id, click_id, _aware(created_at)))
    return found, cut


# Arrays as PostgreSQL's literal text, one parameter each: psycopg2 adapts a list element by element (9 ms for a
# batch's 5,000 keys, against 1.5 ms for this).
def _ints(values: list[int]) -> str:
    return "{" + ",".join(map(str, map(int, values))) + "}"


def _texts(values: list[str]) -> str:
    return "{" + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]) + "}"


def visitor_keys(records: list[dict], limits: dict) -> list[tuple]:
    """(network, program, visitor hash) of the records whose program checks velocity."""
    return sorted({(r["network_id"], r["program_id"], r["ip_hash"]) for r in records
                   if r.get("ip_hash") and r["program_id"] in limits})


def visitor_clicks(keys: list[tuple], limits: dict, since: datetime, until: datetime) -> dict[tuple, list]:
    """The stored clicks of the keys read whole: each walk stops at the program's limit plus `_SLACK` rows (a key
    that reaches it is left out: its visitor is busy, and `mark_velocity` walks it again for the limit alone).
    Complete rows answer both of the ingester's checks, velocity and duplicates."""
    found, cut = _walk(keys, lambda key: limits[key[1]][0] + _SLACK, since, until)
    return {key: rows for key, rows in found.items() if key not in cut}


def mark_velocity(records: list[dict], *, limits: dict | None = None, complete: dict | None = None,
                  keys: list[tuple] | None = None) -> None:
    """Set each record's `velocity_count`: its visitor's clicks on the program within the window, this one
    included, when that exceeds the program's limit; 0 otherwise. `records` are in click time order.
    `complete`: keys whose stored clicks `visitor_clicks` read whole (the others are read here); `keys`: the
    records' `visitor_keys` when the caller has them."""
    for record in records:
        record["velocity_count"] = 0
    limits = program_limits(records) if limits is None else limits
    complete = complete or {}
    keys = visitor_keys(records, limits) if keys is None else keys
    if not keys:
        return
    widest = max(limits[key[1]][1] for key in keys)
    rest = [key for key in keys if key not in complete]
    # The others: each key's `limit` newest clicks up to the batch's last, all the decision needs.
    stored = _walk(rest, lambda key: limits[key[1]][0], records[0]["created_at"] - widest,
                   records[-1]["created_at"])[0] if rest else {}
    stored = stored | complete
    mine = [((record["network_id"], record["program_id"], record["ip_hash"]), record) for record in records
            if record["program_id"] in limits and record.get("ip_hash")]
    in_batch = Counter(key for key, _record in mine)
    # A visitor whose stored clicks and clicks in this batch add up to no more than the limit cannot exceed it,
    # whatever their times: only the others are counted click by click (most visitors have a few clicks).
    busy = {key for key, count in in_batch.items() if len(stored.get(key, ())) + count > limits[key[1]][0]}
    if not busy:
        return
    batch_ids = {r["click_id"] for r in records}
    times: dict[tuple, list] = {
        key: sorted(at for _link_id, click_id, at in stored.get(key, ()) if click_id not in batch_ids)
        for key in busy  # a redelivered click counts once
    }
    for key, record in mine:
        if key not in busy:
            continue
        limit, window = limits[key[1]]
        seen = times[key]
        at = record["created_at"]
        count = bisect_right(seen, at) - bisect_left(seen, at - window) + 1
        if count > limit:
            record["velocity_count"] = count
        insort(seen, at)
