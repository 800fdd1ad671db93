"""CSV export of the API's lists (`?format=csv`, `Accept: text/csv`): the JSON list's rows, all of them, streamed."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pycountry
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commissions.models import Commission
from commissions.services import commission_approve
from core.csvsafe import spreadsheet_text
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout
from programs.models import Partnership, TrackingLink
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_advertiser, make_click, make_conversion, make_link, make_partnership, make_program
from tests.payouts.helpers import earn, method
from tracking.models import Click, Conversion

pytestmark = pytest.mark.django_db

TZ = "America/New_York"  # network a's zone: a non-zero offset that the CSV's times must carry
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1"]


@pytest.fixture
def exports(world, settings):
    """Each network: conversions (some with formula-like text, one in JPY), their commissions (some approved and
    paid out), clicks on the affiliate's link; network a in New York time."""
    settings.STRIPE_SECRET_KEY = ""
    world.a.network.timezone = TZ
    world.a.network.save(update_fields=["timezone"])
    for tenant in (world.a, world.b):
        program, link = program_with_link(tenant)
        tenant.link = link
        for n, text in enumerate(FORMULAS):
            conversion, commissions = convert(tenant, link, f"{text}-{n}", f"{n + 10}.555", sub1=text,
                                              customer_id=f"cus-{n}")
            if n % 2 == 0:
                for commission in commissions:
                    commission_approve(network=tenant.network, commission=commission, operator=True)
            make_click(link, sub1=text, country="LV", is_unique=n != 1)
        _, jpy_link = program_with_link(tenant, currency="JPY", name="Yen shop")
        convert(tenant, jpy_link, "yen-1", "1234.4", currency="JPY")
        method(tenant.affiliate, MethodKind.PAYPAL)
        payout_batch_run(batch_id=payout_batch_start(network=tenant.network).pk)
    return world


def read_csv(response) -> tuple[list[str], list[dict]]:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, row, strict=True)) for row in body]


def json_list(client, path: str, params: dict) -> list[dict]:
    """Every row of a JSON list, page after page."""
    rows, page = [], 1
    while True:
        response = client.get(path, {**params, "page": page, "page_size": 2})
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        page += 1


def as_csv_cell(value) -> str:
    """A JSON value as the CSV writes it (text defused)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return spreadsheet_text("; ".join(str(item) for item in value))
    if isinstance(value, str):
        return spreadsheet_text(value)
    return str(value)


def assert_same_rows(header: list[str], csv_rows: list[dict], json_rows: list[dict], tz: str) -> None:
    assert len(csv_rows) == len(json_rows) > 0
    for csv_row, json_row in zip(csv_rows, json_rows, strict=True):
        assert set(header) <= set(json_row), set(header) - set(json_row)
        for name in header:
            expected, got = json_row[name], csv_row[name]
            if isinstance(expected, str) and name.endswith(("_at", "_until")) and expected:
                # The same instant, written in the network's zone with its offset.
                instant = datetime.fromisoformat(got)
                assert instant == datetime.fromisoformat(expected), name
                assert instant.utcoffset() == instant.astimezone(ZoneInfo(tz)).utcoffset(), name
            else:
                assert got == as_csv_cell(expected), (name, got, expected)


ENDPOINTS = [
    ("conversions", "owner"), ("conversions", "advertiser"), ("conversions", "affiliate"),
    ("commissions", "owner"), ("commissions", "advertiser"), ("commissions", "affiliate"),
    ("affiliates", "owner"), ("affiliates", "affiliate"),
    ("partnerships", "owner"), ("partnerships", "advertiser"), ("partnerships", "affiliate"),
    ("payouts", "owner"), ("payouts", "affiliate"),
    ("clicks", "owner"), ("clicks", "advertiser"), ("clicks", "affiliate"),
]


def list_path(tenant, name: str) -> str:
    return f"/api/v1/links/{tenant.link.pk}/clicks" if name == "clicks" else f"/api/v1/{name}"


@pytest.mark.parametrize(("name", "role"), ENDPOINTS)
def test_each_list_exports_the_json_lists_rows_as_csv(exports, name, role):
    a = exports.a
    client = a.client(role)
    header, rows = read_csv(client.get(list_path(a, name), {"format": "csv"}))
    assert_same_rows(header, rows, json_list(client, list_path(a, name), {}), TZ)


def test_csv_columns_follow_the_roles_json(exports):
    a = exports.a
    advertiser, _ = read_csv(a.client("advertiser").get("/api/v1/conversions?format=csv"))
    affiliate, _ = read_csv(a.client("affiliate").get("/api/v1/conversions?format=csv"))
    assert {"customer_id", "fraud_signals", "affiliate"} <= set(advertiser)
    assert not {"customer_id", "fraud_signals", "partnership", "affiliate"} & set(affiliate)
    affiliate, _ = read_csv(a.client("affiliate").get("/api/v1/commissions?format=csv"))
    advertiser, _ = read_csv(a.client("advertiser").get("/api/v1/commissions?format=csv"))
    owner, _ = read_csv(a.client("owner").get("/api/v1/commissions?format=csv"))
    assert "revenue" not in affiliate and "amount" in affiliate
    assert "amount" not in advertiser and "revenue" in advertiser
    assert {"amount", "revenue"} <= set(owner)
    partner, _ = read_csv(a.client("affiliate").get("/api/v1/partnerships?format=csv"))
    assert "decided_by" not in partner


@pytest.mark.parametrize(("name", "params"), [
    ("conversions", {"status": "accepted", "currency": "JPY"}),
    ("commissions", {"status": "paid"}),
    ("partnerships", {"status": "approved"}),
    ("payouts", {"method_kind": "paypal"}),
    ("affiliates", {"status": "active"}),
    ("clicks", {"is_unique": "false"}),
    ("clicks", {"sub1": "+1+1"}),
])
def test_filters_apply_to_the_csv(exports, name, params):
    a = exports.a
    client = a.client("owner")
    header, rows = read_csv(client.get(list_path(a, name), {**params, "format": "csv"}))
    assert_same_rows(header, rows, json_list(client, list_path(a, name), params), TZ)
    _, everything = read_csv(client.get(list_path(a, name), {"format": "csv"}))
    if name not in ("partnerships", "affiliates", "payouts"):  # those filters select all of this small world
        assert len(rows) < len(everything)


def test_dates_filter_clicks_in_the_networks_time_zone(exports):
    a = exports.a
    local_midnight = datetime(2026, 3, 4, tzinfo=ZoneInfo(TZ))
    make_click(a.link, sub1="before", created_at=local_midnight - timedelta(seconds=1))
    make_click(a.link, sub1="after", created_at=local_midnight)
    client = a.client("advertiser")
    _, rows = read_csv(client.get(list_path(a, "clicks"), {"date_from": "2026-03-04", "date_to": "2026-03-04",
                                                            "format": "csv"}))
    assert [row["sub1"] for row in rows] == ["after"]
    assert rows[0]["created_at"] == "2026-03-04T00:00:00-05:00"
    body = client.get(list_path(a, "clicks"), {"date_to": "2026-03-03"}).json()
    assert [row["sub1"] for row in body["results"]] == ["before"]


@pytest.mark.parametrize("params", [{"page_size": "1.5"}, {"page_size": "0"}, {"page_size": "9.7e-209"},
                                    {"page": "0"}, {"page": "x"}])
def test_a_malformed_page_parameter_is_refused_in_csv_as_in_json(exports, params):
    """A CSV has no pages, but the list's page parameters keep their schema: a malformed one answers 400 with the
    field's error (JSON), nothing streamed."""
    client = exports.a.client("owner")
    response = client.get("/api/v1/partnerships", {"format": "csv", **params})
    assert response.status_code == 400
    assert set(response.json()) == set(params)
    # A well-formed one is accepted and ignored: every row, as without it.
    whole = read_csv(client.get("/api/v1/partnerships", {"format": "csv"}))
    assert read_csv(client.get("/api/v1/partnerships", {"format": "csv", "page": "2", "page_size": "1"})) == whole


def test_an_empty_selection_is_a_header_row(exports):
    header, rows = read_csv(exports.a.client("owner").get("/api/v1/conversions?format=csv&order_id=none"))
    assert header[:3] == ["id", "order_id", "event"] and rows == []


@pytest.mark.parametrize("name", ["conversions", "commissions", "affiliates", "partnerships", "payouts"])
def test_another_networks_rows_never_appear(exports, name):
    a, b = exports.a, exports.b
    _, rows = read_csv(a.client("owner").get(f"/api/v1/{name}?format=csv"))
    ours = {row["id"] for row in json_list(a.client("owner"), f"/api/v1/{name}", {})}
    theirs = {row["id"] for row in json_list(b.client("owner"), f"/api/v1/{name}", {})}
    assert {int(row["id"]) for row in rows} == ours and not ours & theirs


def test_another_advertisers_and_affiliates_rows_never_appear(exports):
    a = exports.a
    other, _ = make_advertiser(a.network, "Other Shop", "other@alpha.test")
    program = make_program(other, name="Other program")
    other_link = make_link(make_partnership(program, a.affiliate2))
    conversion = make_conversion(other, order_id="other-order", amount="99", link=other_link)
    make_click(other_link, sub1="other")
    _, rows = read_csv(a.client("advertiser").get("/api/v1/conversions?format=csv"))
    assert rows and str(conversion.pk) not in {row["id"] for row in rows}
    _, rows = read_csv(a.client("affiliate").get("/api/v1/partnerships?format=csv"))
    assert {row["affiliate"] for row in rows} == {str(a.affiliate.pk)}
    _, rows = read_csv(a.client("affiliate").get("/api/v1/affiliates?format=csv"))
    assert [row["id"] for row in rows] == [str(a.affiliate.pk)]
    _, rows = read_csv(a.client("owner").get("/api/v1/conversions?format=csv"))
    assert str(conversion.pk) in {row["id"] for row in rows}
    # Clicks of a link the key may not see answer 404, as JSON, in either format.
    for role in ("advertiser", "affiliate"):
        for params in ({}, {"format": "csv"}):
            response = a.client(role).get(f"/api/v1/links/{other_link.pk}/clicks", params)
            assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert a.client("owner").get(f"/api/v1/links/{exports.b.link.pk}/clicks").status_code == 404
    response = a.client("owner").get(f"/api/v1/links/{exports.b.link.pk}/clicks", HTTP_ACCEPT="text/csv")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_formula_cells_are_neutralized(exports):
    _, rows = read_csv(exports.a.client("owner").get("/api/v1/conversions?format=csv&currency=EUR"))
    by_order = {row["order_id"]: row for row in rows}
    for n, text in enumerate(FORMULAS):
        row = by_order["'" + f"{text}-{n}"]
        assert row["sub1"] == "'" + text
        assert row["customer_id"] == f"cus-{n}"  # plain text is left alone
        assert Decimal(row["amount"]) == Decimal(f"{n + 10}.56")  # numbers stay numbers
    _, clicks = read_csv(exports.a.client("owner").get(f"/api/v1/links/{exports.a.link.pk}/clicks?format=csv"))
    assert sorted(row["sub1"] for row in clicks) == sorted("'" + text for text in FORMULAS)


def test_money_is_quantized_to_the_currencys_minor_units_beside_its_currency(exports):
    _, rows = read_csv(exports.a.client("owner").get("/api/v1/conversions?format=csv"))
    yen = next(row for row in rows if row["order_id"] == "yen-1")
    assert (yen["amount"], yen["refunded_amount"], yen["currency"]) == ("1234", "0", "JPY")
    eur = next(row for row in rows if row["currency"] == "EUR")
    assert eur["amount"].split(".")[1].__len__() == 2
    _, payouts = read_csv(exports.a.client("owner").get("/api/v1/payouts?format=csv"))
    assert {(row["currency"], len(row["amount"].split(".")[1])) for row in payouts} == {("EUR", 2)}


def test_accept_text_csv_is_the_same_export(exports):
    client = exports.a.client("advertiser")
    by_format = read_csv(client.get("/api/v1/commissions?format=csv&status=paid"))
    by_accept = read_csv(client.get("/api/v1/commissions?status=paid", HTTP_ACCEPT="text/csv"))
    assert by_format == by_accept and by_format[1]
    response = client.get("/api/v1/commissions", HTTP_ACCEPT="text/csv")
    assert "Accept" in response["Vary"] and "Accept" in client.get("/api/v1/commissions")["Vary"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="commissions-alpha-{timezone.localdate(timezone=ZoneInfo(TZ)):%Y%m%d}.csv"')
    response = client.get(f"/api/v1/links/{exports.a.link.pk}/clicks", HTTP_ACCEPT="text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="link-{exports.a.link.pk}-clicks-alpha-')


def test_csv_where_there_is_none_is_a_clear_4xx(exports):
    client = exports.a.client("owner")
    conversion_id = json_list(client, "/api/v1/conversions", {})[0]["id"]
    for path in ("/api/v1/programs", f"/api/v1/conversions/{conversion_id}", "/api/v1/me"):
        response = client.get(path, HTTP_ACCEPT="text/csv")
        assert response.status_code == 406, path
        assert response.json() == {"detail": "Could not satisfy the request Accept header."}
    response = client.get("/api/v1/conversions?format=xlsx")
    assert response.status_code == 400 and response.json() == {"format": ["One of json, csv."]}
    response = client.get("/api/v1/conversions?format=csv&status=nope")
    assert response.status_code == 400 and "status" in response.json()
    # A list with no CSV: DRF's own answer to a format it does not have (JSON, never a server error).
    response = client.get("/api/v1/payout-batches?format=csv")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_options_of_an_exportable_list_answer_json_metadata(exports):
    client = exports.a.client("owner")
    for response in (client.options("/api/v1/conversions?format=csv"),
                     client.options("/api/v1/payouts", HTTP_ACCEPT="text/csv")):
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert response.json()["name"]


def _export_queries(client, path: str) -> tuple[int, int]:
    read_csv(client.get(path))  # the key's first use of the minute writes its last_used_at
    with CaptureQueriesContext(connection) as queries:
        _, rows = read_csv(client.get(path))
    return len(queries), len(rows)


CURRENCIES = sorted(currency.alpha_3 for currency in pycountry.currencies if currency.alpha_3 != "EUR")


def _grow(tenant, name: str, total: int) -> None:
    """Rows of the `name` list up to `total` (bulk: only the export's queries are under test)."""
    models = {"conversions": Conversion, "commissions": Commission, "payouts": Payout, "partnerships": Partnership,
              "clicks": Click}
    model = models[name]
    template = model.objects.filter(network=tenant.network).first()
    clones = []
    for n in range(model.objects.filter(network=tenant.network).count(), total):
        clone = model.objects.get(pk=template.pk)
        clone.pk = None
        if name == "conversions":
            clone.order_id = f"bulk-{n}"
        elif name == "clicks":
            clone.click_id = f"{n:026d}"
        elif name == "partnerships":
            clone.program = make_program(tenant.advertiser, name=f"P{n}")
        elif name == "commissions":
            clone.conversion = None  # one commission per conversion and tier
        elif name == "payouts":
            clone.currency = CURRENCIES[n]  # one payout per batch, affiliate and currency
        clones.append(clone)
    model.objects.bulk_create(clones)


@pytest.mark.parametrize("name", ["conversions", "commissions", "payouts", "partnerships", "clicks"])
def test_the_number_of_queries_does_not_grow_with_the_rows(world, name, settings):
    settings.STRIPE_SECRET_KEY = ""
    a = world.a
    earn(a, "30.00")
    a.link = TrackingLink.objects.get(network=a.network)
    make_click(a.link)
    method(a.affiliate, MethodKind.PAYPAL)
    payout_batch_run(batch_id=payout_batch_start(network=a.network).pk)
    counts = {}
    for total in (10, 150):  # 150: there are about 180 currencies to give the payouts
        _grow(a, name, total)
        counts[total] = _export_queries(a.client("owner"), f"{list_path(a, name)}?format=csv")
    assert counts[10][1] == 10 and counts[150][1] == 150
    assert counts[10][0] == counts[150][0]


def test_the_schema_documents_csv_on_the_exportable_lists_only():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in ("/api/v1/conversions/", "/api/v1/commissions/", "/api/v1/affiliates/", "/api/v1/partnerships/",
                 "/api/v1/payouts/", "/api/v1/links/{id}/clicks/"):
        operation = paths[path]["get"]
        assert operation["responses"]["200"]["content"]["text/csv"] == {"schema": {"type": "string"}}, path
        [format_parameter] = [p for p in operation["parameters"] if p["name"] == "format"]
        assert set(format_parameter["schema"]["enum"]) == {"json", "csv"}
        assert {p["name"] for p in operation["parameters"]} > {"format", "page", "page_size"}
    for path in ("/api/v1/conversions/{id}/", "/api/v1/programs/", "/api/v1/payout-batches/"):
        assert "text/csv" not in paths[path]["get"]["responses"]["200"]["content"], path
