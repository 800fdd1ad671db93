"""The three report pages: status, their own numbers only, htmx panel, errors next to fields, 404 across networks."""

import pytest

from tests.reports.conftest import seeded  # noqa: F401 (fixture)

PAGES = {"advertiser": "/advertiser/reports/", "affiliate": "/partner/reports/", "owner": "/operator/reports/"}
RANGE = {"date_from": "2026-11-10", "date_to": "2026-11-12"}


@pytest.mark.parametrize("role, url", PAGES.items())
def test_each_party_opens_its_report_page(web, seeded, role, url):  # noqa: F811
    response = web("a", role).get(url, {**RANGE, "group_by": "program"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-report-url=\"/api/v1/reports?group_by=program" in html
    assert "format=csv" in html
    assert "Tents" in html


def test_operator_page_shows_profit_and_every_program(web, seeded):  # noqa: F811
    html = web("a", "owner").get(PAGES["owner"], {**RANGE, "group_by": "program"}).content.decode()
    assert "Profit" in html and "Boots" in html and "€22.50" in html and "€5.50" in html


def test_affiliate_page_has_no_revenue_and_only_its_own_numbers(web, seeded):  # noqa: F811
    html = web("a", "affiliate").get(PAGES["affiliate"], RANGE).content.decode()
    assert "Revenue" not in html and "Profit" not in html
    assert "€15.00" in html  # its payout total (5.00 + 10.00)
    assert "name=\"affiliate\"" not in html


def test_advertiser_page_lists_only_its_programs(web, seeded):  # noqa: F811
    html = web("a", "advertiser").get(PAGES["advertiser"], {**RANGE, "group_by": "program"}).content.decode()
    assert "Boots" not in html and "Payout" not in html and "€10.50" in html


def test_htmx_request_gets_the_panel_only(web, seeded):  # noqa: F811
    response = web("a", "owner").get(PAGES["owner"], {**RANGE, "group_by": "sub1"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "report-table" in html and ">fb<" in html


def test_bad_filters_show_errors_next_to_the_fields(web, seeded):  # noqa: F811
    response = web("a", "owner").get(PAGES["owner"], {"group_by": "hour", "date_from": "2026-02-31"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('aria-invalid="true"') == 2 and 'class="error"' in html and "report-table" not in html


def test_another_networks_program_filter_is_404(web, world, seeded):  # noqa: F811
    from tests.factories import make_program

    foreign = make_program(world.b.advertiser, name="Bravo Gear")
    assert web("a", "owner").get(PAGES["owner"], {"program": foreign.pk}).status_code == 404


def test_empty_range_says_what_to_do(web, seeded):  # noqa: F811
    html = web("a", "affiliate").get(PAGES["affiliate"], {"date_from": "2020-01-01", "date_to": "2020-01-31"})
    assert "share your tracking links" in html.content.decode()


@pytest.mark.parametrize("role, url", [("affiliate", PAGES["owner"]), ("advertiser", PAGES["affiliate"]),
                                       ("owner", PAGES["advertiser"])])
def test_wrong_role_is_403(web, world, role, url):
    assert web("a", role).get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES.values())
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_reports_name_the_advertisers_price_cost_and_the_customers_sales(web, seeded):  # noqa: F811
    html = web("a", "advertiser").get(PAGES["advertiser"], {**RANGE, "group_by": "program"}).content.decode()
    assert ">Sales</th>" in html and ">Cost</th>" in html and "Revenue" not in html
    assert '<td data-column="sales">€120.00</td>' in html
    affiliate = web("a", "affiliate").get(PAGES["affiliate"], RANGE).content.decode()
    assert ">Sales</th>" not in affiliate and ">Cost</th>" not in affiliate
