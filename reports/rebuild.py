"""Rebuilding a network's day tables (tracking.daily, commissions.daily) from their sources: after its time zone
changed (the settings page queues it), or for data written around the services (an import, a repair). Step by
step, a span of local days at a time, each step one transaction under the network's exclusive day-table lock: the
writers of the other days go on, and a step's days equal their sources when it commits."""

from collections.abc import Callable
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from commissions.daily import commissions_from_rows
from commissions.models import Commission, CommissionDay
from core.days import local_day_bounds, local_today, zone
from network import daily
from network.models import DayRebuild, Network
from tracking.daily import clicks_from_rollups, conversions_from_rows, day_names
from tracking.models import ClickDay, ClickRollup, Conversion, ConversionDay

STEP_DAYS = 31
TABLES = (ClickDay, ConversionDay, CommissionDay)


def days_rebuild(network_id: int, *, rebuild: DayRebuild | None = None, step_days: int = STEP_DAYS,
                 progress: Callable[[int, int, date, date], None] | None = None) -> int:
    """Rebuild the network's day tables in its current time zone; returns the number of steps. `rebuild` (a
    DayRebuild of this network) records the progress; `progress(done, total, since, until)` hears of each step."""
    tz = Network.objects.values_list("timezone", flat=True).get(pk=network_id)
    first, last = _span(network_id, tz)
    steps = [(day, min(day + timedelta(days=step_days - 1), last))
             for day in (first + timedelta(days=n) for n in range(0, (last - first).days + 1, step_days))]
    # The rebuild's own row, named with its network (every statement over a tenant table does).
    row = DayRebuild.objects.filter(network_id=network_id, pk=rebuild.pk if rebuild is not None else None)
    if rebuild is not None:
        row.update(status=DayRebuild.Status.RUNNING, total=len(steps), done=0)
    try:
        for done, (since, until) in enumerate(steps, start=1):
            _step(network_id, since, until)
            if rebuild is not None:
                row.update(done=done)
            if progress is not None:
                progress(done, len(steps), since, until)
    except Exception as exc:
        if rebuild is not None:
            row.update(status=DayRebuild.Status.FAILED, error=str(exc)[:255], finished_at=timezone.now())
        raise
    if rebuild is not None:
        row.update(status=DayRebuild.Status.DONE, finished_at=timezone.now())
    return len(steps)


def _step(network_id: int, since: date, until: date) -> None:
    with transaction.atomic():
        tz = daily.network_lock(network_id, exclusive=True)
        start, end = local_day_bounds(since, until, tz=tz)
        for model in TABLES:
            for table in daily.every_table(model):  # differences not folded yet are in the sources too
                table.objects.filter(network_id=network_id, day__gte=since, day__lte=until).delete()
        for model, rows in ((ClickDay, clicks_from_rollups(network_id, tz, start, end)),
                            (ConversionDay, conversions_from_rows(network_id, tz, start, end)),
                            (CommissionDay, commissions_from_rows(network_id, tz, start, end))):
            _insert_grouped(model, rows)
            _insert_coarse(model, network_id, since, until)


def _insert_coarse(model, network_id: int, since: date, until: date) -> None:
    """The step's days of `model` summed per partnership into its coarse model, in one INSERT ... SELECT."""
    coarse = model.coarse
    quote = connection.ops.quote_name
    keys = [quote(coarse._meta.get_field(name).column) for name in coarse.day_key]
    sums = [quote(name) for name in coarse.day_sums]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(coarse._meta.db_table)} ({', '.join(keys + sums)}) "  # noqa: S608
            f"SELECT {', '.join(keys)}, {', '.join(f'SUM({s})' for s in sums)} FROM {quote(model._meta.db_table)} "
            f"WHERE network_id = %s AND day >= %s AND day <= %s GROUP BY {', '.join(keys)}",
            [network_id, since, until],
        )


def _insert_grouped(model, rows: QuerySet) -> None:
    """The grouped rows (one per key: `day_names`, then the sums) into the emptied days of `model`, in one INSERT ...
    SELECT, so a big network's day rows never pass through Python. Rows whose sums are all zero are left out, as
    `daily.add` leaves them."""
    sql, params = rows.query.get_compiler(connection=connection).as_sql()  # the writer's, where it runs
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name).column for name in model.day_key] + list(model.day_sums)
    keys = [f"g.{quote(name)}" for name in day_names(model)]
    sums = [f"COALESCE(g.{quote(name)}, 0)" for name in model.day_sums]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
            f"SELECT {', '.join(keys + sums)} FROM ({sql}) g WHERE {' OR '.join(f'{s} <> 0' for s in sums)}",
            params,
        )


def _span(network_id: int, tz: str) -> tuple[date, date]:
    """The local days that may hold a row: from the earliest source row (or day row, in the old zone) to tomorrow
    or the latest day row."""
    today = local_today(tz)
    earliest = [today]
    latest = [today + timedelta(days=1)]
    for model, field in ((ClickRollup, "hour"), (Conversion, "created_at"), (Commission, "created_at")):
        found = model.objects.filter(network_id=network_id).aggregate(first=Min(field), last=Max(field))
        if found["first"] is not None:
            earliest.append(found["first"].astimezone(zone(tz)).date() - timedelta(days=1))
            latest.append(found["last"].astimezone(zone(tz)).date() + timedelta(days=1))
    for table in (table for model in TABLES for table in daily.every_table(model)):
        found = table.objects.filter(network_id=network_id).aggregate(first=Min("day"), last=Max("day"))
        if found["first"] is not None:
            earliest.append(found["first"])
            latest.append(found["last"])
    return min(earliest), max(latest)

