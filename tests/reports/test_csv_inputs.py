"""Report CSV: a cell a spreadsheet would run as a formula after leading blanks (CR, LF, tab, space) is defused."""

import csv
import io

import pytest

from core.csvsafe import spreadsheet_text
from tests.reports.conftest import at, rollup

FORMULAS = ["\r=HYPERLINK(\"http://x\")", "\n=HYPERLINK(\"http://x\")", "\t+1+1", " -1+1", "\r\n@SUM(A1)", "=1"]


@pytest.mark.parametrize("sub1", FORMULAS)
def test_report_csv_defuses_formulas_behind_blanks(world, seeded, sub1):
    rollup(seeded.p1, seeded.a1, at(11, 9), 1, 1, sub1=sub1)
    response = world.a.client("owner").get("/api/v1/reports", {"date_from": "2026-11-10", "date_to": "2026-11-12",
                                                                "group_by": "sub1", "format": "csv"})
    keys = [row[0] for row in csv.reader(io.StringIO(response.content.decode(), newline=""))]
    assert "'" + sub1 in keys and sub1 not in keys


@pytest.mark.parametrize("text", ["fb", "1-2", "a=b", "", "'quoted", "€5"])
def test_plain_text_is_left_as_it_is(text):
    assert spreadsheet_text(text) == text
