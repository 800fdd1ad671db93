"""CSV imports of offline conversions: checking an upload (text, header, size), the job it becomes, and running it
a chunk at a time through the postback's batch path (`recording_batch`), resumable after the last committed chunk.
"""

import csv
import io
import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

from core.money import parse_amount
from network.models import Advertiser, Membership, Network

from .ids import is_click_id
from .models_import import IMPORT_ERRORS_KEPT, ConversionImport
from .recording import COUPON_MAX_LENGTH, DEFAULT_EVENT, EVENTS, money_errors, order_id_as_sent
from .recording_batch import Row, conversions_record_batch
from .serializers import ConversionCreateSerializer
from .signals import conversion_import_queued

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("order_id", "amount", "currency")
OPTIONAL_COLUMNS = ("click_id", "coupon", "customer_id", "event", "occurred_at")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CHUNK = 1000  # rows per transaction: the chunk's conversions, commissions kick and the job's counters
CUSTOMER_ID_MAX_LENGTH = ConversionCreateSerializer._declared_fields["customer_id"].max_length
# A sale dated a little ahead of the server's clock (the merchant's clock runs fast) is taken as it is.
FUTURE_SLACK = timedelta(minutes=5)


class ImportRefused(Exception):
    """The upload is not a CSV of conversions this import takes; nothing is recorded."""


def _text(data: bytes) -> str:
    if b"\0" in data:
        raise ImportRefused(gettext("The file is not a CSV file (it holds binary data)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(gettext("The file is not UTF-8 text: save the spreadsheet as CSV (UTF-8).")) from exc


def _reader(text: str):
    return csv.reader(io.StringIO(text, newline=""), strict=True)


def _header(reader) -> list[str]:
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise ImportRefused(gettext("The file is not valid CSV: %(error)s.") % {"error": exc}) from exc
    header = [cell.strip().lower() for cell in first or []]
    if not any(header):
        raise ImportRefused(gettext("The file has no header row: its first line must name the columns (%(columns)s).")
                            % {"columns": ", ".join(REQUIRED_COLUMNS)})
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise ImportRefused(gettext("Unknown columns: %(unknown)s. Known: %(known)s.")
                            % {"unknown": ", ".join(unknown), "known": ", ".join(COLUMNS)})
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ImportRefused(gettext("Columns named twice: %(names)s.") % {"names": ", ".join(repeated)})
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportRefused(gettext("Missing required columns: %(missing)s.") % {"missing": ", ".join(missing)})
    return header


def too_large() -> ImportRefused:
    return ImportRefused(gettext("The file is larger than %(limit)s MB; split it.")
                         % {"limit": settings.CONVERSION_IMPORT_MAX_BYTES // 2**20})


def import_file_check(data: bytes) -> int:
    """The number of data rows of an upload; raises ImportRefused with the reason it is not taken."""
    if len(data) > settings.CONVERSION_IMPORT_MAX_BYTES:
        raise too_large()
    reader = _reader(_text(data))
    _header(reader)
    try:
        rows = sum(1 for cells in reader if any(cell.strip() for cell in cells))
    except csv.Error as exc:
        raise ImportRefused(gettext("The file is not valid CSV (line %(line)s): %(error)s.")
                            % {"line": reader.line_num, "error": exc}) from exc
    if not rows:
        raise ImportRefused(gettext("The file has a header but no rows."))
    return rows


def conversion_import_create(*, network: Network, advertiser: Advertiser, data: bytes, filename: str = "",
                             membership: Membership | None = None) -> ConversionImport:
    """Check the upload, keep it (storage API) and queue its processing. Raises ImportRefused (nothing kept)."""
    total = import_file_check(data)
    with transaction.atomic():
        job = ConversionImport(network=network, advertiser=advertiser, created_by=membership, total=total,
                               filename=(filename or "conversions.csv")[-255:])
        job.file.save("conversions.csv", ContentFile(data), save=False)
        job.save()
        transaction.on_commit(lambda: conversion_import_queued.send(sender=ConversionImport, import_id=job.pk,
                                                                    network_id=job.network_id))
    return job


# --- rows -----------------------------------------------------------------------------------------------------
def _occurred_at(value: str, tz: ZoneInfo, now: datetime) -> datetime:
    """An ISO 8601 time (or a date: its midnight); without an offset, in the network's time zone."""
    parsed = None
    try:
        parsed = parse_datetime(value)
        if parsed is None and (day := parse_date(value)) is not None:
            parsed = datetime.combine(day, time())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(gettext("Not a date and time: use ISO 8601, e.g. 2026-03-01T14:30:00Z or 2026-03-01."))
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    if parsed > now + FUTURE_SLACK:
        raise ValueError(gettext("In the future."))
    return parsed


def _quick(cells: dict) -> dict | None:
    """The row's values when it is of the common shape and valid (the postback's own checks); else None."""
    order_id, currency = cells.get("order_id", ""), cells.get("currency", "").upper()
    event, click_id = cells.get("event") or DEFAULT_EVENT, cells.get("click_id", "")
    coupon, customer_id = cells.get("coupon", ""), cells.get("customer_id", "")
    if not order_id_as_sent(order_id) or event not in EVENTS or (click_id and not is_click_id(click_id)):
        return None
    if len(coupon) > COUPON_MAX_LENGTH or len(customer_id) > CUSTOMER_ID_MAX_LENGTH:
        return None
    try:
        amount = parse_amount(cells.get("amount", ""))
    except ValueError:
        return None
    if money_errors(amount=amount, currency=currency) is not None:
        return None
    return {"order_id": order_id, "amount": amount, "currency": currency, "event": event, "click_id": click_id,
            "coupon": coupon, "customer_id": customer_id}


def import_row(number: int, cells: dict, tz: ZoneInfo, now: datetime) -> tuple[Row | None, dict | None]:
    """A row for the batch path, or its field errors."""
    errors: dict = {}
    if None in cells:  # csv.DictReader keeps cells beyond the header under None
        errors["row"] = [gettext("More cells than the header has columns.")]
    cells = {name: (value or "").strip() for name, value in cells.items() if name is not None}
    occurred_at = None
    if cells.get("occurred_at"):
        try:
            occurred_at = _occurred_at(cells["occurred_at"], tz, now)
        except ValueError as exc:
            errors["occurred_at"] = [str(exc)]
    values, full = _quick(cells), False
    if values is None:
        # The postback's serializer says what is wrong, in its words; a row it takes goes through the full path.
        # An empty cell is an absent field (a lead's amount may be empty: 0, as in the postback).
        data = ConversionCreateSerializer(data={name: value for name, value in cells.items()
                                                if value and name != "occurred_at"})
        if data.is_valid():
            validated = data.validated_data
            values = {"order_id": validated["order_id"], "amount": validated["amount"],
                      "currency": validated["currency"], "event": validated["event"],
                      "click_id": validated.get("click_id", ""), "coupon": validated.get("coupon", ""),
                      "customer_id": validated.get("customer_id", "")}
            full = True
        else:
            errors.update({name: [str(message) for message in messages] for name, messages in data.errors.items()})
    if errors:
        return None, errors
    return Row(number=number, values=values | {"occurred_at": occurred_at}, full=full), None


def _rows(job: ConversionImport):
    """(row number, cells) of the file's non-blank data rows; the header is row 1."""
    with job.file.open("rb") as handle:
        text = _text(handle.read())
    reader = _reader(text)
    header = _header(reader)
    for number, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            values = dict(zip(header, cells, strict=False))
            if len(cells) > len(header):
                values[None] = cells[len(header):]
            yield number, values


# --- the job ------------------------------------------------------------------------------------------------------
def conversion_import_network(import_id: int) -> int | None:
    """The network of an import queued before tasks carried it (read by id, across networks)."""
    return ConversionImport.objects.filter(pk=import_id).values_list("network_id", flat=True).first()


def conversion_import_run(*, import_id: int, network_id: int | None = None) -> ConversionImport | None:
    """Process an import from its first unprocessed row; each chunk commits with the job's counters, so a rerun
    (a retry, a worker that died) resumes where the last one stopped and records nothing twice."""
    if network_id is None:
        network_id = conversion_import_network(import_id)
    job = ConversionImport.objects.select_related("network", "advertiser").filter(network_id=network_id,
                                                                                  pk=import_id).first()
    if job is None or job.is_finished:
        return job
    network, advertiser = job.network, job.advertiser
    ConversionImport.objects.for_network(network).filter(pk=job.pk).update(
        status=ConversionImport.Status.RUNNING, started_at=job.started_at or timezone.now())
    tz, chunk, position = ZoneInfo(network.timezone), [], 0
    for number, cells in _rows(job):
        position += 1
        if position <= job.processed:
            continue  # committed by an earlier run
        chunk.append((number, cells))
        if len(chunk) == CHUNK:
            _run_chunk(job.pk, network, advertiser, chunk, tz, before=position - len(chunk))
            chunk = []
    if chunk:
        _run_chunk(job.pk, network, advertiser, chunk, tz, before=position - len(chunk))
    ConversionImport.objects.for_network(network).filter(pk=job.pk).update(
        status=ConversionImport.Status.DONE, finished_at=timezone.now())
    return ConversionImport.objects.for_network(network).get(pk=job.pk)


def _run_chunk(import_id: int, network: Network, advertiser: Advertiser, chunk: list, tz: ZoneInfo, *,
               before: int) -> None:
    """One chunk in one transaction, with the job's row locked: a second run of the same job (a redelivered task)
    waits, then finds the chunk counted and skips it."""
    now = timezone.now()
    with transaction.atomic():
        job = ConversionImport.objects.for_network(network).select_for_update().get(pk=import_id)
        if job.processed != before:
            return
        rows, errors = [], []
        for number, cells in chunk:
            row, row_errors = import_row(number, cells, tz, now)
            if row is None:
                errors.append({"row": number, "errors": row_errors})
            else:
                rows.append(row)
        outcomes = conversions_record_batch(network=network, advertiser=advertiser, rows=rows)
        errors += [{"row": outcome.number, "errors": outcome.errors} for outcome in outcomes
                   if outcome.result == "error"]
        errors.sort(key=lambda item: item["row"])
        job.processed += len(chunk)
        job.created += sum(outcome.result == "created" for outcome in outcomes)
        job.duplicates += sum(outcome.result == "duplicate" for outcome in outcomes)
        job.error_count += len(errors)
        job.errors = (job.errors + errors)[:IMPORT_ERRORS_KEPT]
        job.save(update_fields=["processed", "created", "duplicates", "error_count", "errors"])


def conversion_import_fail(*, import_id: int, detail: str, network_id: int | None = None) -> None:
    """The job stops (a file gone from storage, an unexpected error): what it recorded so far stays."""
    if network_id is None:
        network_id = conversion_import_network(import_id)
    ConversionImport.objects.filter(network_id=network_id, pk=import_id).exclude(
        status=ConversionImport.Status.DONE).update(status=ConversionImport.Status.FAILED, detail=detail[:1000],
                                                    finished_at=timezone.now())
