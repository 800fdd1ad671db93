"""Report pages in a real browser: the chart draws from the JSON API, htmx swaps the table, CSV downloads."""

from pathlib import Path

import pytest

from tests.reports.conftest import seeded  # noqa: F401 (fixture)

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


def test_operator_groups_by_program_and_downloads_the_csv(world, seeded, new_page):  # noqa: F811
    with_password(world.a.owner.user)
    page = new_page()
    log_in(page, "owner@alpha.test")
    page.goto("/operator/reports/?date_from=2026-11-10&date_to=2026-11-12")
    page.wait_for_selector("canvas[data-report-kind=line][data-chart-ready=true]")
    assert page.locator("tfoot td[data-column=clicks]").inner_text() == "35"
    page.select_option("select[name=group_by]", "program")
    page.wait_for_selector("canvas[data-report-kind=bar][data-chart-ready=true]")
    assert "group_by=program" in page.url
    rows = page.locator("tbody tr")
    assert rows.count() == 2 and "Boots" in rows.first.inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("program,label,clicks") and "Boots" in text
