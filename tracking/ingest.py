"""Click ingestion: queued click records -> Click rows (marked duplicate / bot) + hourly ClickRollup and LinkRollup
counters, in one transaction per batch, counting each click_id once however often it is delivered. The queue's
consumer loop that feeds it is `click_queue.drain` (the queue's writers fall back to `ingest_records` too)."""

import csv
import functools
import io
import logging
import operator
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, timedelta

import crawleruseragents
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from core.inputs import text_problem, without_bad_text
from programs.models import SUB_FIELDS
from tracking import daily, partitions, velocity
from tracking.ids import click_id_time_unchecked, is_click_id
from tracking.models import Click, ClickRollup, Conversion, LinkRollup
from tracking.services import conversions_attribute_clicks

log = logging.getLogger(__name__)

USE_COPY = True
ROLLUP_COUNTERS = ("clicks", "unique_clicks", "bot_clicks", "velocity_clicks")
ROLLUP_SUBS = SUB_FIELDS
# Rollup sub IDs are cut to this length: five of them (4 bytes a character at worst) stay under PostgreSQL's
# B-tree row limit (~2700 bytes) in the unique key, whatever a publisher puts in a sub ID.
ROLLUP_SUB_LENGTH = daily.SUB_LENGTH
_SIMPLE_FIELDS = (models.CharField, models.IntegerField, models.BooleanField, models.ForeignKey)


@dataclass
class IngestResult:
    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    bots: int = 0
    velocity: int = 0


@functools.lru_cache(maxsize=8192)
def is_bot(user_agent: str) -> bool:
    """Empty user agents and those matching the crawler-user-agents list (a maintained pattern list)."""
    return not user_agent.strip() or crawleruseragents.is_crawler(user_agent)


def _columns(model, skip=("id",)):
    """(column names, per-field value makers) for a raw INSERT of every concrete field, so fields added to
    the model later (with a default) are filled in without touching this module."""
    fields = [f for f in model._meta.concrete_fields if f.attname not in skip]
    makers = []
    # psycopg2 adapts aware datetimes itself; SQLite needs Django's conversion.
    simple = _SIMPLE_FIELDS + ((models.DateTimeField,) if connection.vendor == "postgresql" else ())
    for field in fields:
        default = field.get_default() if field.has_default() else None
        if isinstance(field, simple):
            makers.append((field.attname, default, None))
        else:
            makers.append((field.attname, default, field))
    return [f.column for f in fields], makers


def _row(record: dict, makers) -> list:
    row = []
    for attname, default, field in makers:
        value = record.get(attname, default)
        if field is not None:
            value = field.get_db_prep_save(value, connection)
        row.append(value)
    return row


def _rows(records: list[dict], makers) -> list:
    """`_row` of each record. When every field takes its value as it is (PostgreSQL's clicks), one C-level
    itemgetter a record over the defaults filled in once, instead of a Python loop over the fields."""
    if any(field is not None for _attname, _default, field in makers):
        return [_row(record, makers) for record in records]
    defaults = {attname: default for attname, default, _field in makers}
    values = operator.itemgetter(*defaults)
    return [values(defaults | record) for record in records]


def _copy_rows(records: list[dict], columns: list[str], makers) -> tuple[list[str], list]:
    """The columns and rows of `_rows` for COPY's CSV, each click time as text made once a millisecond and put
    last (the CSV writer's str() of a datetime, a row, was 40 % of its time)."""
    names = [attname for attname, _default, _field in makers]
    if any(field is not None for _attname, _default, field in makers) or "created_at" not in names:
        return columns, _rows(records, makers)
    defaults = {attname: default for attname, default, _field in makers}
    last = names.index("created_at")
    values = operator.itemgetter(*(name for name in names if name != "created_at"))
    texts = {at: str(at) for at in {record["created_at"] for record in records}}
    rows = [values(defaults | record) + (texts[record["created_at"]],) for record in records]
    return [column for i, column in enumerate(columns) if i != last] + [columns[last]], rows


def _insert_returning(table: str, columns: list[str], rows: list[list], conflict: str, returning: str) -> list:
    """Multi-row INSERT ... ON CONFLICT ...; RETURNING tells which rows were really written."""
    if not rows:
        return []
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    returning_sql = f" RETURNING {returning}" if returning else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            sql = f"INSERT INTO {table} ({cols}) VALUES %s {conflict}{returning_sql}"  # noqa: S608 (our names)
            return execute_values(cursor.cursor, sql, rows, page_size=len(rows), fetch=bool(returning)) or []
        out = []
        per_statement = max(1, 900 // len(columns))
        placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([placeholder] * len(chunk))
            sql = f"INSERT INTO {table} ({cols}) VALUES {values} {conflict}{returning_sql}"  # noqa: S608 (our names)
            cursor.execute(sql, [value for row in chunk for value in row])
            if returning:
                out.extend(cursor.fetchall())
        return out


def _copy_insert_clicks(columns: list[str], rows: list[list]) -> list:
    """PostgreSQL: COPY the batch straight into the click table, under a savepoint. A click stored already (the
    stream delivered it again: a consumer stopped before its ack) breaks the unique key and rolls the COPY back;
    then the batch goes through a session staging table and INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING,
    which skips it (COPY alone cannot). Returns the new clicks' ids, each as a 1-tuple."""
    import psycopg2

    table = Click._meta.db_table
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    data = io.StringIO()
    # CSV with every string quoted: "" is an empty string, never NULL (the columns are NOT NULL).
    csv.writer(data, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    data.seek(0)
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():  # nearly every batch is new clicks: the staging table costs a third more
                cursor.cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", data)
        except psycopg2.Error as error:
            if not _unique_violation(error):
                raise
            data.seek(0)
        else:
            at = columns.index("click_id")
            return [(row[at],) for row in rows]
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS click_stage ON COMMIT DELETE ROWS AS "  # noqa: S608 (our names)
            f"SELECT {cols} FROM {table} WITH NO DATA"
        )
        cursor.cursor.copy_expert(f"COPY click_stage ({cols}) FROM STDIN WITH (FORMAT csv)", data)
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM click_stage "  # noqa: S608 (our names)
            "ON CONFLICT DO NOTHING RETURNING click_id"
        )
        new = cursor.fetchall()
        cursor.execute("TRUNCATE click_stage")
        return new


def _unique_violation(error) -> bool:
    """A stored click's key broken. Citus reports a worker's unique violation during a COPY as an internal error
    (SQLSTATE XX000) with PostgreSQL's own message."""
    import psycopg2

    if isinstance(error, psycopg2.errors.UniqueViolation):
        return True
    message = getattr(error.diag, "message_primary", None) or ""
    return error.pgcode == "XX000" and message.startswith("duplicate key value violates unique constraint")


def _last_seen(keys: set[tuple[int, int, int, str]], since, until) -> dict[tuple[int, str], object]:
    """Latest stored click time per (link, visitor hash) within [since, until]; `keys` are (network, link,
    program, visitor hash): the visitor index is (network, ip_hash, program, created_at), which the velocity
    check reads too. One statement per network and chunk: Citus runs each on that network's shard."""
    seen = {}
    per_network: dict[int, list] = {}
    for network_id, *key in sorted(keys):
        per_network.setdefault(network_id, []).append(tuple(key))
    table = Click._meta.db_table
    bounds = [connection.ops.adapt_datetimefield_value(since), connection.ops.adapt_datetimefield_value(until)]
    chunks = [(network_id, network_keys[start : start + 500]) for network_id, network_keys in per_network.items()
              for start in range(0, len(network_keys), 500)]
    for network_id, chunk in chunks:
        if connection.vendor == "postgresql":
            # One index probe per key (newest first): cost does not grow with the clicks a key already has.
            sql = (
                "SELECT k.link_id, k.ip_hash, (SELECT c.created_at FROM "  # noqa: S608 (our names, values as params)
                f"{table} c WHERE c.network_id = %s AND c.ip_hash = k.ip_hash AND c.program_id = k.program_id "
                "AND c.link_id = k.link_id AND c.created_at >= %s AND c.created_at <= %s "
                "ORDER BY c.created_at DESC LIMIT 1) "
                f"FROM (VALUES {', '.join(['(%s::bigint, %s::bigint, %s::text)'] * len(chunk))}) "
                "AS k(link_id, program_id, ip_hash)"
            )
            params = [network_id, *bounds] + [value for key in chunk for value in key]
        else:
            sql = (
                f"SELECT link_id, ip_hash, MAX(created_at) FROM {table} "  # noqa: S608 (our names, values as params)
                f"WHERE network_id = %s AND created_at >= %s AND created_at <= %s AND (link_id, ip_hash) IN "
                f"({', '.join(['(%s, %s)'] * len(chunk))}) GROUP BY link_id, ip_hash"
            )
            params = [network_id, *bounds] + [value for link_id, _program_id, ip_hash in chunk
                                              for value in (link_id, ip_hash)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for link_id, ip_hash_value, latest in cursor.fetchall():
                if latest is None:
                    continue
                if isinstance(latest, str):  # SQLite returns the aggregate as text (UTC)
                    latest = models.DateTimeField().to_python(latest)
                    if timezone.is_naive(latest):
                        latest = timezone.make_aware(latest, UTC)
                seen[(link_id, ip_hash_value)] = latest
    return seen


_TEXT_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5", "user_agent", "referrer", "country", "ip_truncated")
_text_values = operator.itemgetter(*_TEXT_FIELDS)


def _prepare(records: list[dict]) -> list[dict]:
    """Valid records, one per click_id, in click time order, with created_at derived from the click id."""
    by_id = {}
    times: dict[str, object] = {}  # an id's time part -> its time: a batch holds many clicks a millisecond
    for record in records:
        click_id = record.get("click_id") if isinstance(record, dict) else None
        if not is_click_id(click_id) or not record.get("link_id") or not record.get("network_id"):
            log.error("malformed click record dropped: %r", click_id)
            continue
        at = times.get(click_id[:10])
        if at is None:
            at = times[click_id[:10]] = click_id_time_unchecked(click_id)
        by_id[click_id] = dict(record, created_at=at)
    prepared = [by_id[key] for key in sorted(by_id)]
    if not _clean_text(prepared):
        for record in prepared:
            for name in _TEXT_FIELDS:  # `?sub1=%00`: PostgreSQL refuses NUL (the batch would fail), SQLite stores it
                value = record.get(name)
                if isinstance(value, str):
                    record[name] = without_bad_text(value)
    return prepared


def _clean_text(records: list[dict]) -> bool:
    """True when no text field of the records holds a NUL or a lone surrogate: one search over the batch's text
    joined (joining never makes one, nor hides one), instead of one a field. False also when a record lacks a
    text field or holds another type there (the field-by-field path then looks)."""
    try:
        joined = "".join(map("".join, map(_text_values, records)))
    except (KeyError, TypeError):
        return False
    return text_problem(joined) is None


def _mark(records: list[dict]) -> None:
    """Flag bots, duplicates (same link and visitor hash within the window, in the batch or stored) and IP
    velocity (tracking.velocity)."""
    window = timedelta(seconds=settings.CLICK_DUPLICATE_WINDOW_SECONDS)
    since, until = records[0]["created_at"] - window, records[-1]["created_at"] + window
    limits = velocity.program_limits(records)
    complete = {}  # visitors of velocity-checked programs read whole: their rows answer both checks
    if vkeys := velocity.visitor_keys(records, limits):
        widest = max(limits[key[1]][1] for key in vkeys)
        complete = velocity.visitor_clicks(vkeys, limits, records[0]["created_at"] - max(widest, window), until)
    keys = {(r["network_id"], r["link_id"], r["program_id"], r["ip_hash"]) for r in records
            if r.get("ip_hash") and (r["network_id"], r["program_id"], r["ip_hash"]) not in complete}
    last = _last_seen(keys, since, until) if keys else {}
    fresh = window > timedelta(0)  # a stored click with none before it in `last` (no `at - window` a row)
    for (_network_id, _program_id, ip_hash), rows in complete.items():
        for link_id, _click_id, at in rows:
            if since <= at <= until:
                previous = last.get((link_id, ip_hash))
                if at > previous if previous is not None else fresh:
                    last[(link_id, ip_hash)] = at
    for record in records:
        record["is_bot"] = is_bot(record.get("user_agent") or "")
        key = (record["link_id"], record.get("ip_hash"))
        if not key[1]:
            record["is_unique"] = True
            continue
        previous = last.get(key)
        at = record["created_at"]
        # |at - previous|: a stored click slightly later than this one (out-of-order delivery) counts too.
        record["is_unique"] = previous is None or abs(at - previous) > window
        last[key] = at if previous is None else max(previous, at)
    velocity.mark_velocity(records, limits=limits, complete=complete, keys=vkeys)


def _rollup(inserted: list[dict]) -> None:
    """The batch's new clicks added to the hourly rollups (ClickRollup, LinkRollup) and the day tables: one pass
    over the clicks counts them by minute, and each table adds up the minutes (a batch spans a few)."""
    counters: dict[tuple, list[int]] = {}  # (network, program, affiliate, minute, *subs, country) -> counts
    per_link: dict[tuple, list[int]] = {}  # (network, link, minute) -> [clicks, unique clicks]
    cut: dict[tuple, tuple] = {}  # raw sub IDs -> as the rollup keeps them (a batch repeats a few combinations)
    minutes: dict = {}  # click time -> its minute (the clicks of one millisecond share their time)
    counts_unique = daily.counts_unique
    for r in inserted:
        at = r["created_at"]
        minute = minutes.get(at)
        if minute is None:
            minute = minutes[at] = at.replace(second=0, microsecond=0)
        raw = tuple(map(r.get, ROLLUP_SUBS))
        subs = cut.get(raw)
        if subs is None:
            subs = cut[raw] = tuple((value or "")[:ROLLUP_SUB_LENGTH] for value in raw)
        key = (r["network_id"], r["program_id"], r["affiliate_id"], minute, *subs, r.get("country") or "")
        unique = 1 if counts_unique(r) else 0
        c = counters.get(key)
        if c is None:
            c = counters[key] = [0, 0, 0, 0]
        c[0] += 1
        c[1] += unique
        c[2] += 1 if r["is_bot"] else 0
        c[3] += 1 if r["velocity_count"] else 0
        link_key = (r["network_id"], r["link_id"], minute)
        n = per_link.get(link_key)
        if n is None:
            n = per_link[link_key] = [0, 0]
        n[0] += 1
        n[1] += unique
    if not counters:
        return
    hourly: dict[tuple, list[int]] = {}
    for (network_id, program_id, affiliate_id, minute, *rest), counts in counters.items():
        _add(hourly, (network_id, program_id, affiliate_id, minute.replace(minute=0), *rest), counts)
    columns, makers = _rollup_columns()
    rows = []
    for key in sorted(hourly):  # one lock order (network, program, affiliate, hour, subs, country): no deadlocks
        network_id, program_id, affiliate_id, hour, *subs, country = key
        record = {"network_id": network_id, "program_id": program_id, "affiliate_id": affiliate_id, "hour": hour,
                  **dict(zip(ROLLUP_SUBS, subs, strict=True)), "country": country,
                  **dict(zip(ROLLUP_COUNTERS, hourly[key], strict=True))}
        rows.append(_row(record, makers))
    table = ClickRollup._meta.db_table
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ROLLUP_COUNTERS)
    target = ", ".join(("network_id", "program_id", "affiliate_id", "hour", *ROLLUP_SUBS, "country"))
    conflict = f"ON CONFLICT ({target}) DO UPDATE SET {updates}"
    _insert_returning(table, columns, rows, conflict, "")
    link_hours: dict[tuple, list[int]] = {}
    for (network_id, link_id, minute), counts in per_link.items():
        _add(link_hours, (network_id, link_id, minute.replace(minute=0)), counts)
    _link_rollup(link_hours)
    daily.clicks_add(counters)


def _add(into: dict[tuple, list[int]], key: tuple, counts: list[int]) -> None:
    total = into.get(key)
    if total is None:
        into[key] = list(counts)
    else:
        for i, count in enumerate(counts):
            total[i] += count


def _link_rollup(per_link: dict[tuple, list[int]]) -> None:
    """One upsert of the batch's clicks per (link, hour) into LinkRollup, in one lock order."""
    table = LinkRollup._meta.db_table
    rows = [[network_id, link_id, _hour_value(hour), *per_link[(network_id, link_id, hour)]]
            for network_id, link_id, hour in sorted(per_link)]
    conflict = (f"ON CONFLICT (network_id, link_id, hour) DO UPDATE SET clicks = {table}.clicks + excluded.clicks, "
                f"unique_clicks = {table}.unique_clicks + excluded.unique_clicks")
    _insert_returning(table, ["network_id", "link_id", "hour", "clicks", "unique_clicks"], rows, conflict, "")


def _hour_value(hour):
    # psycopg2 adapts aware datetimes itself; SQLite needs Django's conversion (as `_columns` decides).
    return hour if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(hour)


@functools.cache
def _click_columns():
    return _columns(Click)


@functools.cache
def _rollup_columns():
    return _columns(ClickRollup)


def _attribute_waiting_conversions(inserted: list[dict]) -> None:
    """Conversions posted before their click was ingested (queue lag) are attributed now."""
    for network_id in dict.fromkeys(record["network_id"] for record in inserted):
        # The few waiting conversions of the network (a partial index holds only those), matched here: the common
        # case reads an empty index instead of probing thousands of click ids.
        waiting = set(Conversion.objects.filter(network_id=network_id, attribution_pending=True)
                      .values_list("click_id", flat=True))
        if waiting and (found := waiting & {r["click_id"] for r in inserted if r["network_id"] == network_id}):
            conversions_attribute_clicks(network_id=network_id, click_ids=sorted(found))


def _analyze_young_partitions(inserted: list[dict]) -> None:
    """Statistics for a day's partition as it fills (tracking.partitions.analyze_young); never fails the batch."""
    try:
        written: dict = {}
        for at, count in Counter(record["created_at"] for record in inserted).items():  # a time a millisecond
            day = at.astimezone(UTC).date()
            written[day] = written.get(day, 0) + count
        due = partitions.analyze_young(written)
    except Exception:
        log.warning("could not analyse the day's click partition", exc_info=True)
        return
    if due:
        log.info("analysed young click partitions: %s", ", ".join(due))


def ingest_records(records: list[dict]) -> IngestResult:
    """Write one batch: new clicks only (click_id unique), flags, and rollups for the rows actually inserted."""
    prepared = _prepare(records)
    result = IngestResult(received=len(records))
    if not prepared:
        return result
    if connection.vendor == "postgresql":
        partitions.ensure_for({r["created_at"] for r in prepared})  # a time a millisecond (`_prepare`)
    columns, makers = _click_columns()
    with transaction.atomic():
        _mark(prepared)
        if connection.vendor == "postgresql" and USE_COPY:
            returned = _copy_insert_clicks(*_copy_rows(prepared, columns, makers))
        else:
            returned = _insert_returning(Click._meta.db_table, columns, _rows(prepared, makers),
                                         "ON CONFLICT DO NOTHING", "click_id")
        new_ids = {row[0] for row in returned}
        inserted = [r for r in prepared if r["click_id"] in new_ids]
        _rollup(inserted)
    result.inserted = len(inserted)
    if inserted:
        _attribute_waiting_conversions(inserted)
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            _analyze_young_partitions(inserted)
    result.duplicates = sum(1 for r in inserted if not r["is_unique"])
    result.bots = sum(1 for r in inserted if r["is_bot"])
    result.velocity = sum(1 for r in inserted if r["velocity_count"])
    return result
