"""GET /api/v1/reports: figures equal hand-counted sums of the seeded rows, per grouping and per party."""

import csv
import io

import pytest

from reports.rebuild import days_rebuild
from tests.reports.conftest import rollup

URL = "/api/v1/reports"
RANGE = {"date_from": "2026-11-10", "date_to": "2026-11-12"}
FIELDS = ("clicks", "unique_clicks", "conversions", "revenue", "payout", "profit", "conversion_rate", "epc")


def get(client, **params):
    return client.get(URL, {**RANGE, **params})


def figures(row):
    return tuple(row.get(name) for name in FIELDS)


def by_key(body):
    return {row["key"]: figures(row) for row in body["rows"]}


# Hand-counted from tests/reports/conftest.py (EUR, Berlin days 10..12 November; O-4 rejected, USD apart).
DAY = {
    "2026-11-10": (10, 8, 1, "8.00", "5.00", "3.00", "0.1250", "0.50"),
    "2026-11-11": (5, 5, 1, "2.50", "2.00", "0.50", "0.2000", "0.40"),
    "2026-11-12": (20, 15, 1, "12.00", "10.00", "2.00", "0.0667", "0.50"),
}
TOTAL = (35, 28, 3, "22.50", "17.00", "5.50", "0.1071", "0.49")
EXPECTED = {
    "day": DAY,
    "week": {"2026-W46": TOTAL},
    "month": {"2026-11": TOTAL},
    "sub1": {"fb": (30, 23, 2, "20.00", "15.00", "5.00", "0.0870", "0.50"),
             "ig": (5, 5, 1, "2.50", "2.00", "0.50", "0.2000", "0.40")},
    "sub2": {"": (25, 20, 2, "14.50", "12.00", "2.50", "0.1000", "0.48"),
             "x": (10, 8, 1, "8.00", "5.00", "3.00", "0.1250", "0.50")},
    "sub3": {"": TOTAL},
    "country": {"DE": (30, 23, 2, "20.00", "15.00", "5.00", "0.0870", "0.50"),
                "FR": (5, 5, 1, "2.50", "2.00", "0.50", "0.2000", "0.40")},
}


@pytest.mark.parametrize("group_by", list(EXPECTED))
def test_each_grouping_sums_the_seeded_rows(world, seeded, group_by):
    response = get(world.a.client("owner"), group_by=group_by)
    assert response.status_code == 200, response.content
    body = response.json()
    assert by_key(body) == EXPECTED[group_by]
    assert figures(body["totals"]) == TOTAL
    assert (body["currency"], body["timezone"]) == ("EUR", "Europe/Berlin")


def test_program_and_affiliate_groupings_carry_names(world, seeded):
    body = get(world.a.client("staff"), group_by="program").json()
    assert [(r["key"], r["label"], r["clicks"], r["revenue"]) for r in body["rows"]] == [
        (seeded.p2.pk, "Boots", 20, "12.00"), (seeded.p1.pk, "Tents", 15, "10.50")]
    body = get(world.a.client("owner"), group_by="affiliate").json()
    assert [(r["label"], r["clicks"], r["payout"]) for r in body["rows"]] == [
        (seeded.a1.name, 30, "15.00"), (seeded.a2.name, 5, "2.00")]


def test_day_boundaries_follow_the_network_time_zone(world, seeded):
    # 23:00 UTC on the 10th is the 11th in Berlin; in UTC it stays on the 10th.
    assert by_key(get(world.a.client("owner")).json())["2026-11-11"][:3] == (5, 5, 1)
    network = world.a.network
    network.timezone = "UTC"
    network.save(update_fields=["timezone"])
    days_rebuild(network.pk)  # what the settings page queues when the zone changes
    days = by_key(get(world.a.client("owner")).json())
    assert days["2026-11-10"][:3] == (15, 13, 2)
    assert days["2026-11-11"][:3] == (0, 0, 0)


def test_a_click_at_23_30_utc_counts_on_the_next_berlin_day(world, seeded):
    from programs.models import TrackingLink
    from tests.reports.conftest import at
    from tracking.ids import new_click_id
    from tracking.ingest import ingest_records

    link = TrackingLink.objects.get(program=seeded.p1, affiliate=seeded.a1)
    click_id = new_click_id(int(at(12, 23, 30).timestamp() * 1000))
    ingest_records([{"click_id": click_id, "network_id": link.network_id, "program_id": link.program_id,
                     "partnership_id": link.partnership_id, "link_id": link.pk, "affiliate_id": link.affiliate_id,
                     "sub1": "late", "ip_hash": "v1", "user_agent": "Mozilla/5.0 Firefox/140.0", "country": "DE"}])
    days = by_key(get(world.a.client("owner"), date_to="2026-11-13").json())
    assert days["2026-11-12"][0] == 20 and days["2026-11-13"][:2] == (1, 1)


def test_currency_filter_reports_only_that_currencys_programs(world, seeded):
    body = get(world.a.client("owner"), currency="usd", group_by="program").json()
    assert body["currency"] == "USD"
    assert [(r["label"], r["clicks"], r["revenue"], r["payout"]) for r in body["rows"]] == [
        ("US Tents", 7, "6.00", "4.00")]


def test_affiliate_sees_only_itself_and_no_revenue_or_profit(world, seeded):
    body = get(world.a.client("affiliate"), group_by="day").json()
    assert body["columns"] == ["clicks", "unique_clicks", "conversions", "payout", "conversion_rate", "epc"]
    assert {r["key"]: (r["clicks"], r["conversions"], r["payout"], r["epc"]) for r in body["rows"]} == {
        "2026-11-10": (10, 1, "5.00", "0.50"), "2026-11-11": (0, 0, "0.00", None),
        "2026-11-12": (20, 1, "10.00", "0.50")}
    assert "revenue" not in body["totals"] and "profit" not in body["totals"]
    body = get(world.a.client("affiliate2"), group_by="affiliate").json()
    assert [(r["label"], r["clicks"]) for r in body["rows"]] == [(seeded.a2.name, 5)]


def test_advertiser_sees_only_its_programs_revenue_per_click_and_no_payout(world, seeded):
    body = get(world.a.client("advertiser"), group_by="program").json()
    assert body["columns"] == ["clicks", "unique_clicks", "conversions", "sales", "revenue", "conversion_rate", "epc"]
    assert [(r["label"], r["clicks"], r["conversions"], r["revenue"], r["epc"]) for r in body["rows"]] == [
        ("Tents", 15, 2, "10.50", "0.70")]


def test_filters_narrow_to_one_program_and_affiliate(world, seeded):
    body = get(world.a.client("owner"), program=seeded.p1.pk, affiliate=seeded.a2.pk).json()
    assert figures(body["totals"]) == (5, 5, 1, "2.50", "2.00", "0.50", "0.2000", "0.40")


def test_csv_has_the_json_rows_and_totals(world, seeded):
    client = world.a.client("owner")
    body = get(client, group_by="sub1").json()
    response = get(client, group_by="sub1", format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == ["sub1", "label", *body["columns"], "currency", "timezone"]
    expected = [[str(r["key"]), r["label"], *("" if r[c] is None else str(r[c]) for c in body["columns"]), "EUR",
                 "Europe/Berlin"] for r in [*body["rows"], body["totals"]]]
    assert lines[1:] == expected


def test_csv_names_the_network_time_zone_of_its_days(world, seeded):
    text = get(world.a.client("advertiser"), group_by="day", format="csv").content.decode()
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][0] == "day (Europe/Berlin)" and lines[0][-1] == "timezone"
    assert [line[0] for line in lines[1:4]] == ["2026-11-10", "2026-11-11", "2026-11-12"]  # dates a sheet reads
    assert {line[-1] for line in lines[1:]} == {"Europe/Berlin"}


def test_conversion_rate_counts_only_conversions_that_came_through_a_click(world, seeded):
    from programs.models import Partnership
    from tests.factories import make_link
    from tests.reports.conftest import at, sale

    client = world.a.client("owner")
    assert by_key(get(client).json())["2026-11-11"][:3] == (5, 5, 1)
    assert by_key(get(client).json())["2026-11-11"][6] == "0.2000"
    # Two coupon sales of the same day (no click): conversions and money count them, the rate does not.
    link = make_link(Partnership.objects.get(program=seeded.p1, affiliate=seeded.a2))
    for n in range(2):
        sale(link, f"C-{n}", at(11, 12), amount="10.00", payout="1.00", revenue="1.00", attribution="coupon")
    day = by_key(get(client).json())["2026-11-11"]
    assert day[:3] == (5, 5, 3)
    assert day[6] == "0.2000"  # 1 click conversion / 5 unique clicks, not 3 / 5
    totals = figures(get(client).json()["totals"])
    assert totals[2] == 5 and totals[6] == "0.1071"  # 3 click conversions / 28 unique clicks


def test_csv_defuses_formula_cells(world, seeded):
    from tests.reports.conftest import at

    rollup(seeded.p1, seeded.a1, at(11, 9), 1, 1, sub1="=HYPERLINK(\"http://x\")")
    text = get(world.a.client("owner"), group_by="sub1", format="csv").content.decode()
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


@pytest.mark.parametrize("params, field", [
    ({"group_by": "hour"}, "group_by"), ({"date_from": "2026-13-01"}, "date_from"),
    ({"date_from": "2026-11-12", "date_to": "2026-11-01"}, "date_from"), ({"program": "abc"}, "program"),
    ({"affiliate": "-3"}, "affiliate"), ({"currency": "EURO"}, "currency"), ({"format": "xml"}, "format"),
    ({"date_from": "2020-01-01", "date_to": "2026-11-01"}, "date_from"),
])
def test_bad_parameters_answer_400_with_field_errors(world, seeded, params, field):
    response = world.a.client("owner").get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_another_networks_program_or_affiliate_answers_404(world, seeded):
    from tests.factories import make_program

    foreign = make_program(world.b.advertiser, name="Bravo Gear")
    assert get(world.a.client("owner"), program=foreign.pk).status_code == 404
    assert get(world.a.client("owner"), affiliate=world.b.affiliate.pk).status_code == 404
    # Within the network, another party's objects are as unknown.
    assert get(world.a.client("advertiser"), program=seeded.p2.pk).status_code == 404
    assert get(world.a.client("affiliate"), affiliate=seeded.a2.pk).status_code == 404
    assert get(world.a.client("affiliate"), format="csv", program=foreign.pk).status_code == 404


def test_other_network_sees_none_of_these_numbers(world, seeded):
    body = get(world.b.client("owner"), group_by="program").json()
    assert body["rows"] == [] and body["totals"]["clicks"] == 0


def test_anonymous_is_401(anon):
    assert anon.get(URL).status_code == 401


def test_cpc_commissions_count_on_their_clicks_hour_and_sub(world, seeded):
    from decimal import Decimal

    from commissions.models import Commission
    from tests.reports.conftest import at

    row = rollup(seeded.p1, seeded.a2, at(11, 23), 4, 4, sub1="cpc", country="NL")  # the 12th in Berlin
    Commission.objects.create(network_id=row.network_id, kind="click", status="approved", program=seeded.p1,
                              advertiser=seeded.p1.advertiser, affiliate=seeded.a2, rollup=row, clicks=4,
                              clicks_upto=4, currency="EUR", amount=Decimal("0.40"), revenue=Decimal("0.60"))
    days_rebuild(row.network_id)
    client = world.a.client("owner")
    assert by_key(get(client).json())["2026-11-12"] == (24, 19, 1, "12.60", "10.40", "2.20", "0.0526", "0.43")
    assert by_key(get(client, group_by="sub1").json())["cpc"] == (4, 4, 0, "0.60", "0.40", "0.20", "0.0000", "0.10")
    assert by_key(get(client, group_by="country").json())["NL"][3:5] == ("0.60", "0.40")


def test_advertiser_report_has_what_the_customers_paid_as_sales(world, seeded):
    body = get(world.a.client("advertiser"), group_by="program").json()
    assert [(r["label"], r["sales"], r["revenue"]) for r in body["rows"]] == [("Tents", "120.00", "10.50")]
    assert body["totals"]["sales"] == "120.00"
    assert "sales" not in get(world.a.client("affiliate"), group_by="day").json()["totals"]
