"""A report as CSV: a DRF renderer (so `?format=csv` is content negotiation), formula cells defused."""

import csv
import io

from rest_framework.renderers import BaseRenderer

from core.csvsafe import spreadsheet_text


def safe_cell(value) -> object:
    """Text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, str):
        return spreadsheet_text(value)
    return "" if value is None else value


def report_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = report["columns"]
    writer.writerow([report["group_by"], "label", *columns, "currency"])
    for row in [*report["rows"], report["totals"]]:
        # key and label carry publisher-chosen text (sub IDs); figures are ours.
        writer.writerow([safe_cell(row["key"]), safe_cell(row["label"]),
                         *("" if row[c] is None else row[c] for c in columns), report["currency"]])
    return out.getvalue()


class ReportCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return report_csv(data).encode(self.charset)
