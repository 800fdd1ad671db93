"""A report as CSV: a DRF renderer (so `?format=csv` is content negotiation), formula cells defused."""

import csv
import io

from rest_framework.renderers import BaseRenderer

from core.csvsafe import spreadsheet_text

from .selectors import TIME_GROUPS


def safe_cell(value) -> object:
    """Text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, str):
        return spreadsheet_text(value)
    return "" if value is None else value


def key_header(report: dict) -> str:
    """The first column's header: a day, week or month is the network's local one, so the header names the zone
    (`day (Europe/Riga)`); the cells stay plain ISO dates a spreadsheet reads as dates. (Instants elsewhere, as in
    core.export, carry their offset; a calendar day has none.)"""
    if report["group_by"] in TIME_GROUPS:
        return f"{report['group_by']} ({report['timezone']})"
    return report["group_by"]


def report_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = report["columns"]
    # Every row names its currency and time zone (what its local days are), whatever the grouping.
    writer.writerow([key_header(report), "label", *columns, "currency", "timezone"])
    for row in [*report["rows"], report["totals"]]:
        # key and label carry publisher-chosen text (sub IDs); figures are ours.
        writer.writerow([safe_cell(row["key"]), safe_cell(row["label"]),
                         *("" if row[c] is None else row[c] for c in columns), report["currency"],
                         report["timezone"]])
    return out.getvalue()


class ReportCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return report_csv(data).encode(self.charset)
