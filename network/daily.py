"""Per-network-local-day tables of sums (clicks, conversions, commissions by day and dimension): the one way they
are written. Writers add differences (`kept`, `added`), under a shared per-network lock; a rebuild (after a
time zone change) takes it exclusively, so no difference lands on a table being rewritten.

A day table is a `TenantModel` with `day_key` (the columns of its unique key, `network` and `day` first) and
`day_sums` (the columns a difference adds to). Its sources say which of their rows a change touched; the
difference of their contributions before and after is what is added, so any update of those rows (a refund, a
status, a late attribution) keeps the table equal to its sources without knowing what changed.

A table with a `changes` model (conversions, commissions: written by many requests at once) takes differences
as new rows of that model, never as updates of its own rows: a busy key's row would otherwise be updated by
every postback, one transaction after the other, each leaving a dead row version behind. `fold` moves them into
the table every few seconds (reports.tasks); readers add the changes not folded yet (`with_changes`). The click
ingester, one writer per batch, adds to ClickDay directly."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, models, transaction
from django.dispatch import Signal

from .models import DayRebuild, Network

# Sent on commit when a network's time zone changed, with `network_id` and `rebuild_id` (a queued DayRebuild):
# reports rebuilds the day tables in the new zone.
timezone_changed = Signal()
# Rows per INSERT of `add`.
ADD_CHUNK = 1000
# pg_advisory_xact_lock(class, network id): the class of the day tables' per-network lock.
LOCK_CLASS = 7215
# A source's contribution: {key tuple (the table's day_key values): {sum column: value}}.
Contribution = dict[tuple, dict]


def network_lock(network_id: int, *, exclusive: bool = False) -> str:
    """Take the network's day-table lock for the rest of the transaction (shared: a writer; exclusive: a rebuild)
    and return the network's time zone as it is under the lock. On SQLite the database's one writer is the lock."""
    if connection.vendor != "postgresql":
        return Network.objects.values_list("timezone", flat=True).get(pk=network_id)
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s::int), timezone FROM {Network._meta.db_table} WHERE id = %s",  # noqa: S608
                       [LOCK_CLASS, network_id, network_id])
        return cursor.fetchone()[1]


def add(model: type[models.Model], contribution: Contribution) -> None:
    """Add each key's sums to its row (inserted when new), in key order so two writers never wait on each other
    in a cycle, and to its partnership's row of the table's `coarse` model when it has one. Zero differences are
    skipped."""
    _write(model, contribution, upsert=True)
    coarse = getattr(model, "coarse", None)
    if coarse is not None:
        _write(coarse, projected(model, contribution), upsert=True)


def projected(model: type[models.Model], contribution: Contribution) -> Contribution:
    """A contribution to `model` as one to its `coarse` model (the keys cut to the coarse key's columns)."""
    coarse = model.coarse
    picks = [model.day_key.index(name) for name in coarse.day_key]
    out: Contribution = {}
    for key, values in contribution.items():
        into = out.setdefault(tuple(key[i] for i in picks), dict.fromkeys(model.day_sums, 0))
        for name in model.day_sums:
            into[name] += values.get(name) or 0
    return out


def record(model: type[models.Model], contribution: Contribution) -> None:
    """A writer's difference: new rows of the table's `changes` model when it has one, else added to its rows."""
    changes = getattr(model, "changes", None)
    if changes is None:
        add(model, contribution)
    else:
        _write(changes, contribution, upsert=False)


def _write(model: type[models.Model], contribution: Contribution, *, upsert: bool) -> None:
    sums = model.day_sums
    rows = [(key, values) for key, values in sorted(contribution.items(), key=lambda item: _sortable(item[0]))
            if any(values.get(name) for name in sums)]
    for start in range(0, len(rows), ADD_CHUNK):
        _insert(model, rows[start:start + ADD_CHUNK], upsert=upsert)


def _insert(model: type[models.Model], rows: list[tuple[tuple, dict]], *, upsert: bool) -> None:
    sums = model.day_sums
    table = model._meta.db_table
    keys = [model._meta.get_field(name).column for name in model.day_key]
    columns = [*keys, *sums]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    one = f"({', '.join(['%s'] * len(columns))})"
    params = [value for key, values in rows for value in (*key, *(values.get(name) or 0 for name in sums))]
    conflict = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}" if upsert else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}{conflict}",  # noqa: S608
            params,
        )


def with_changes(model: type[models.Model], *, by_partnership: bool = False) -> list[type[models.Model]]:
    """What a reader sums: the table (its `coarse` model instead when the reader groups by time, program or
    affiliate only, `by_partnership`) and its changes not folded in yet (when it has a changes model)."""
    changes = getattr(model, "changes", None)
    table = getattr(model, "coarse", None) if by_partnership else None
    return [table or model] + ([] if changes is None else [changes])


def every_table(model: type[models.Model]) -> list[type[models.Model]]:
    """The table, its coarse model and its changes model: every row a rebuild rewrites."""
    return [table for table in (model, getattr(model, "coarse", None), getattr(model, "changes", None)) if table]


def fold(model: type[models.Model], network_id: int) -> int:
    """Move the network's changes into the table (under its shared lock: a rebuild never sees half a fold);
    returns how many change rows were folded. DELETE ... RETURNING takes exactly the rows it removes, whatever
    commits meanwhile."""
    changes = model.changes
    keys = [changes._meta.get_field(name).column for name in changes.day_key]
    with transaction.atomic():
        network_lock(network_id)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {changes._meta.db_table} WHERE network_id = %s "  # noqa: S608
                           f"RETURNING {', '.join([*keys, *changes.day_sums])}", [network_id])
            found = cursor.fetchall()
        if found:
            names = [*keys, *changes.day_sums]
            rows = [dict(zip(names, _decimals(changes, row), strict=True)) for row in found]
            add(model, grouped(rows, keys, changes.day_sums))
    return len(found)


def _decimals(model: type[models.Model], row: tuple) -> tuple:
    """A raw row's decimal sums as Decimals (SQLite hands back floats for a numeric column; PostgreSQL Decimals)."""
    places = {len(model.day_key) + n: model._meta.get_field(name).decimal_places
              for n, name in enumerate(model.day_sums) if isinstance(model._meta.get_field(name), models.DecimalField)}
    return tuple(value if n not in places or isinstance(value, Decimal) or value is None
                 else Decimal(str(value)).quantize(Decimal(1).scaleb(-places[n])) for n, value in enumerate(row))


def fold_all(model: type[models.Model]) -> int:
    """Fold every network's changes (the beat task); returns the change rows folded."""
    network_ids = model.changes.objects.order_by().values_list("network_id", flat=True).distinct()
    return sum(fold(model, network_id) for network_id in sorted(network_ids))


def _sortable(key: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in key)


def difference(before: Contribution, after: Contribution, sums: Iterable[str]) -> Contribution:
    """after - before, per key and sum."""
    out: Contribution = {}
    for key in {*before, *after}:
        old, new = before.get(key, {}), after.get(key, {})
        out[key] = {name: (new.get(name) or 0) - (old.get(name) or 0) for name in sums}
    return out


def grouped(rows: Iterable[dict], key: Iterable[str], sums: Iterable[str]) -> Contribution:
    """Rows of {key columns..., sums...} (a grouped query's values) -> a contribution."""
    key, sums = tuple(key), tuple(sums)
    out: Contribution = {}
    for row in rows:
        k = tuple(row[name] for name in key)
        found = out.setdefault(k, dict.fromkeys(sums, 0))
        for name in sums:
            found[name] += row[name] or 0
    return out


# A source: (network id, its row ids, the network's time zone) -> the contribution of those rows.
Source = Callable[[int, list, str], Contribution]


def rebuild_queue(network: Network) -> DayRebuild:
    """A queued rebuild of the network's day tables in its (new) time zone; it starts when the caller's transaction
    commits (reports runs it)."""
    rebuild = DayRebuild.objects.create(network=network, timezone=network.timezone)
    transaction.on_commit(lambda: timezone_changed.send(sender=DayRebuild, network_id=network.pk,
                                                        rebuild_id=rebuild.pk))
    return rebuild


@contextmanager
def kept(model: type[models.Model], source: Source, network_id: int, ids: list) -> Iterator[None]:
    """Keep `model` equal to its source across a change of the rows `ids` (made inside the block): their
    contribution before and after is read, and the difference added, in the block's transaction."""
    with transaction.atomic():
        tz = network_lock(network_id)
        before = source(network_id, ids, tz) if ids else {}
        yield
        after = source(network_id, ids, tz) if ids else {}
        record(model, difference(before, after, model.day_sums))


def added(model: type[models.Model], source: Source, network_id: int, ids: list) -> None:
    """Add the contribution of rows just written (`ids`) to `model`."""
    if not ids:
        return
    with transaction.atomic():
        tz = network_lock(network_id)
        record(model, source(network_id, ids, tz))
