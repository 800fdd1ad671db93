"""CSV export of API lists: `?format=csv` or `Accept: text/csv` on a list streams the whole filtered set.

One mixin for every exportable list view. The view names its columns (`csv_columns`, the JSON list's flat fields
under the same names); rows are read with `values_list(...).iterator()` (a server-side cursor on PostgreSQL), so
memory stays flat for a million rows and no row costs a query. Times are written in the network's time zone with
their offset, money quantized to its currency's minor units, and text a spreadsheet would run as a formula is
defused (core.csvsafe).
"""

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

from .csvsafe import FIRST_CHARS, spreadsheet_text
from .money import quantum

CSV_MEDIA_TYPE = "text/csv"
CHUNK_ROWS = 2000  # rows per database fetch and per chunk of the response


class CsvRenderer(BaseRenderer):
    """Makes `text/csv` (and `?format=csv`) negotiable on a list; the list itself answers with a stream."""

    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - errors are JSON
        return json.dumps(data).encode(self.charset)


@dataclass(frozen=True)
class Column:
    """A CSV column: its header (the JSON field's name), the `values_list` paths it reads, and how a cell is made
    from those values (`kind`: text, number, flag, time, money, list; or `cell`, a function of the values)."""

    name: str
    sources: tuple[str, ...]
    kind: str = "text"
    cell: Callable | None = None


def text(name: str, source: str = "") -> Column:
    return Column(name, (source or name,))


def number(name: str, source: str = "") -> Column:
    return Column(name, (source or name,), "number")


def flag(name: str, source: str = "") -> Column:
    return Column(name, (source or name,), "flag")


def time(name: str, source: str = "") -> Column:
    return Column(name, (source or name,), "time")


def money(name: str, source: str = "", currency: str = "currency") -> Column:
    return Column(name, (source or name, currency), "money")


def joined(name: str, source: str = "") -> Column:
    """A JSON list of strings as one cell, items separated by `; `."""
    return Column(name, (source or name,), "list")


def computed(name: str, sources: Iterable[str], cell: Callable, kind: str = "text") -> Column:
    """A cell made by `cell(*values)`; `kind` then says how its result is written (text is defused; for money,
    `cell` returns the pair (amount, currency))."""
    return Column(name, tuple(sources), kind, cell)


def _writer(kind: str, tz, quanta: dict) -> Callable:
    """value(s) -> the cell, for one kind (the csv module writes None as an empty cell)."""
    if kind == "text":
        return lambda value: value if not value or value[0] not in FIRST_CHARS else spreadsheet_text(value)
    if kind == "number":
        return lambda value: value
    if kind == "flag":
        return lambda value: None if value is None else ("true" if value else "false")
    if kind == "time":
        return lambda value: None if value is None else value.astimezone(tz).isoformat()
    if kind == "list":
        return lambda value: spreadsheet_text("; ".join(str(item) for item in value or ()))
    if kind == "money":
        def money_cell(value, currency):
            if value is None:
                return None
            if currency not in quanta:
                quanta[currency] = quantum(currency)
            return str(value.quantize(quanta[currency], rounding=ROUND_HALF_UP))
        return money_cell
    raise ValueError(f"Unknown CSV column kind {kind!r}.")


def _cell_makers(columns: list[Column], positions: dict[str, int], tz) -> list[Callable]:
    """row -> cell, per column: one call per cell on the common paths (a million rows times 26 columns)."""
    quanta: dict = {}
    makers = []
    for column in columns:
        at = tuple(positions[source] for source in column.sources)
        write = _writer(column.kind, tz, quanta)
        if column.cell is not None and column.kind == "money":
            makers.append(lambda row, at=at, fn=column.cell, write=write: write(*fn(*(row[i] for i in at))))
        elif column.cell is not None:
            makers.append(lambda row, at=at, fn=column.cell, write=write: write(fn(*(row[i] for i in at))))
        elif column.kind == "number":
            makers.append(itemgetter(at[0]))
        elif column.kind == "text":
            makers.append(lambda row, i=at[0]: (
                value if not (value := row[i]) or value[0] not in FIRST_CHARS else spreadsheet_text(value)))
        elif column.kind == "time":
            makers.append(lambda row, i=at[0]: None if (value := row[i]) is None else value.astimezone(tz).isoformat())
        elif len(at) == 1:
            makers.append(lambda row, i=at[0], write=write: write(row[i]))
        else:
            makers.append(lambda row, at=at, write=write: write(*(row[i] for i in at)))
    return makers


def csv_stream(queryset, columns: list[Column], *, time_zone: str) -> Iterator[bytes]:
    """The header, then every row of `queryset`, in chunks of bytes; one query, read in chunks."""
    sources = list(dict.fromkeys(source for column in columns for source in column.sources))
    positions = {source: i for i, source in enumerate(sources)}
    makers = _cell_makers(columns, positions, ZoneInfo(time_zone))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in columns])
    for rows, row in enumerate(queryset.values_list(*sources).iterator(chunk_size=CHUNK_ROWS), start=1):
        writer.writerow([make(row) for make in makers])
        if rows % CHUNK_ROWS == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


class CsvExportMixin:
    """For a ListModelMixin view of the tenant API: its list also answers CSV. Give `csv_columns` (or override
    `get_csv_columns()` for role-dependent columns) and `csv_name`, the file name's first word."""

    csv_columns: tuple[Column, ...] = ()
    csv_name = "export"

    def get_renderers(self):
        renderers = [renderer() for renderer in api_settings.DEFAULT_RENDERER_CLASSES]
        # The list's OPTIONS too (it answers JSON whatever was asked); anything else asked as CSV answers 406.
        if getattr(self, "action", None) in ("list", "metadata"):
            renderers.append(CsvRenderer())
        return renderers

    def get_csv_columns(self) -> list[Column]:
        return list(self.csv_columns)

    def get_csv_filename(self) -> str:
        today = timezone.localdate(timezone=ZoneInfo(self.network.timezone))
        return f"{self.csv_name}-{self.network.slug}-{today:%Y%m%d}.csv"

    def wants_csv(self) -> bool:
        return isinstance(getattr(self.request, "accepted_renderer", None), CsvRenderer)

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=: a bad parameter, not a missing page
            formats = ", ".join(renderer.format for renderer in self.get_renderers() if renderer.format != "api")
            raise exceptions.ValidationError({api_settings.URL_FORMAT_OVERRIDE: [f"One of {formats}."]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        if not isinstance(response, StreamingHttpResponse) and self.wants_csv():  # errors (and OPTIONS) stay JSON
            request.accepted_renderer = self.get_renderers()[0]
            request.accepted_media_type = request.accepted_renderer.media_type
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "action", None) == "list":
            patch_vary_headers(response, ["Accept"])  # the same URL answers JSON or CSV
        return response

    def list(self, request, *args, **kwargs):
        if not self.wants_csv():
            return super().list(request, *args, **kwargs)
        if self.paginator is not None:  # no pages in a CSV, but a malformed page parameter is still refused
            self.paginator.get_page_size(request)
            page = request.query_params.get(self.paginator.page_query_param)
            if page is not None and not (page.isascii() and page.isdigit() and len(page) <= 19 and int(page) >= 1):
                raise exceptions.ValidationError({self.paginator.page_query_param: ["A whole number from 1."]})
        queryset = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            csv_stream(queryset, self.get_csv_columns(), time_zone=self.network.timezone),
            content_type=f"{CSV_MEDIA_TYPE}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.get_csv_filename()}"'
        response["Cache-Control"] = "private, no-store"
        return response
