"""POST /api/v1/conversions/import and GET /api/v1/imports/<id>: counters, duplicates, refused rows and files,
tenancy, and money equal to the postback's."""

from datetime import timedelta
from decimal import Decimal

import pytest

from commissions.models import Commission, LedgerEntry
from tests.factories import make_link, make_partnership, make_program
from tests.tracking.conversions_support import click_at, make_shop, post_conversion
from tracking.models import Conversion, ConversionImport

from .support import commission_rows, committed, csv_bytes, imported, ledger_sums, upload

HEADER = ["order_id", "amount", "currency", "click_id", "customer_id", "event", "occurred_at"]


@pytest.fixture
def shop(world):
    return make_shop(world.a)


def test_import_answers_202_and_the_job_counts_every_row(world, shop):
    clicks = [click_at(shop.link, timedelta(hours=2)) for _ in range(3)]
    data = csv_bytes(HEADER, [
        ["A-1", "100.00", "EUR", clicks[0].click_id, "", "", ""],
        ["A-2", "50.00", "eur", clicks[1].click_id, "cust-2", "sale", ""],
        ["A-3", "", "EUR", "", "", "lead", ""],
        ["A-4", "80.00", "EUR", clicks[2].click_id, "", "", ""],
    ])
    response = upload(world.a.client("advertiser"), data)
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) >= {"id", "status", "total", "processed", "created", "duplicates", "errors"}
    assert body["total"] == 4
    job = world.a.client("advertiser").get(f"/api/v1/imports/{body['id']}").json()
    assert (job["status"], job["processed"], job["created"], job["duplicates"], job["errors"]) == (
        "done", 4, 4, 0, [])
    stored = {c.order_id: c for c in Conversion.objects.for_network(world.a.network)}
    assert stored["A-1"].attribution == "click" and stored["A-1"].affiliate_id == world.a.affiliate.pk
    assert stored["A-2"].currency == "EUR" and stored["A-2"].customer_id == "cust-2"
    assert stored["A-3"].attribution == "none" and stored["A-3"].event == "lead" and stored["A-3"].amount == 0
    assert Commission.objects.for_network(world.a.network).filter(tier=1).count() == 3
    assert sorted(Commission.objects.for_network(world.a.network).values_list("amount", flat=True)) == [
        Decimal("5"), Decimal("8"), Decimal("10")]


def test_a_second_import_of_the_same_file_counts_duplicates_and_changes_no_money(world, shop):
    clicks = [click_at(shop.link, timedelta(hours=1)) for _ in range(2)]
    data = csv_bytes(HEADER[:4], [["D-1", "30.00", "EUR", clicks[0].click_id], ["D-2", "40.00", "EUR",
                                                                                 clicks[1].click_id]])
    client = world.a.client("advertiser")
    assert imported(client, data)["created"] == 2
    commissions, ledger = commission_rows(world.a.network), ledger_sums(world.a.network)
    entries = LedgerEntry.objects.for_network(world.a.network).count()
    again = imported(client, data)
    assert (again["status"], again["created"], again["duplicates"], again["errors"]) == ("done", 0, 2, [])
    assert Conversion.objects.for_network(world.a.network).count() == 2
    assert commission_rows(world.a.network) == commissions
    assert ledger_sums(world.a.network) == ledger
    assert LedgerEntry.objects.for_network(world.a.network).count() == entries


def test_an_order_id_posted_before_is_a_duplicate_and_a_changed_amount_an_error(world, shop):
    client = world.a.client("advertiser")
    assert committed(post_conversion, client, order_id="P-1", amount="10.00").status_code == 201
    assert committed(post_conversion, client, order_id="P-2", amount="10.00").status_code == 201
    job = imported(client, csv_bytes(HEADER[:3], [["P-1", "10.00", "EUR"], ["P-2", "11.00", "EUR"],
                                                  ["P-3", "12.00", "EUR"], ["P-3", "12.00", "EUR"]]))
    assert (job["created"], job["duplicates"]) == (1, 2)
    assert job["errors"] == [{"row": 3, "errors": {
        "order_id": ["This order_id is already recorded with a different amount or currency."]}}]
    assert Conversion.objects.for_network(world.a.network).get(order_id="P-2").amount == Decimal("10")


def test_bad_rows_are_reported_by_row_number_and_the_others_imported(world, shop):
    click = click_at(shop.link, timedelta(hours=1))
    yen = make_program(world.a.advertiser, name="Yen", currency="JPY")
    jpy_shop_click = click_at(make_link(make_partnership(yen, world.a.affiliate)), timedelta(hours=1))
    data = csv_bytes(HEADER, [
        ["B-1", "10.00", "EUR", click.click_id, "", "", ""],
        ["B-2", "ten", "EUR", "", "", "", ""],
        ["", "10.00", "EUR", "", "", "", ""],
        ["B-4", "10.00", "XXY", "", "", "", ""],
        ["B-5", "10.001", "EUR", "", "", "", ""],
        ["B-6", "10.00", "EUR", "not-a-click", "", "", ""],
        ["B-7", "10.00", "EUR", "", "", "refund", ""],
        ["B-8", "10.00", "EUR", "", "", "", "yesterday"],
        ["B-9", "10.00", "EUR", jpy_shop_click.click_id, "", "", ""],
        ["B-10", "10.00", "EUR", "", "", "", "2026-01-05T10:00:00"],
    ])
    job = imported(world.a.client("advertiser"), data)
    assert job["status"] == "done"
    assert (job["total"], job["processed"], job["created"], job["error_count"]) == (10, 10, 2, 8)
    by_row = {error["row"]: error["errors"] for error in job["errors"]}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "amount" in by_row[3] and "order_id" in by_row[4] and "currency" in by_row[5]
    assert "amount" in by_row[6] and "click_id" in by_row[7] and "event" in by_row[8]
    assert "occurred_at" in by_row[9] and "currency" in by_row[10]
    assert set(Conversion.objects.for_network(world.a.network).values_list("order_id", flat=True)) == {"B-1", "B-10"}
    dated = Conversion.objects.for_network(world.a.network).get(order_id="B-10")
    assert dated.created_at.isoformat() == "2026-01-05T10:00:00+00:00"  # the network's zone (UTC) when no offset


@pytest.mark.parametrize(("data", "words"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"order_id,amount,currency\nA,1,\xff\xfeEUR\n", "UTF-8"),
    (b"", "no header"),
    (b"\n\n", "no header"),
    (b"order_id,amount\nA,1\n", "Missing required columns: currency"),
    (b"order_id,amount,currency,colour\nA,1,EUR,red\n", "Unknown columns: colour"),
    (b"order_id,amount,currency\n", "no rows"),
    (b'order_id,amount,currency\n"A,1,EUR\n', "not valid CSV"),
])
def test_a_file_that_is_not_a_csv_of_conversions_answers_400_and_creates_nothing(world, shop, data, words):
    response = upload(world.a.client("advertiser"), data)
    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert not ConversionImport.objects.exists()
    assert not Conversion.objects.exists()


def test_a_file_over_the_size_limit_answers_400(world, shop, settings):
    settings.CONVERSION_IMPORT_MAX_BYTES = 1024
    data = csv_bytes(HEADER[:3], [[f"S-{n}", "1.00", "EUR"] for n in range(200)])
    response = upload(world.a.client("advertiser"), data)
    assert response.status_code == 400
    assert "larger than" in response.json()["detail"]
    assert not ConversionImport.objects.exists() and not Conversion.objects.exists()


def test_no_file_answers_400(world, shop):
    response = world.a.client("advertiser").post("/api/v1/conversions/import", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["detail"]


def test_only_an_advertiser_imports_and_each_reads_only_its_own_jobs(world, shop):
    job = imported(world.a.client("advertiser"), csv_bytes(HEADER[:3], [["T-1", "1.00", "EUR"]]))
    assert world.b.client("advertiser").get(f"/api/v1/imports/{job['id']}").status_code == 404
    assert world.b.client("owner").get(f"/api/v1/imports/{job['id']}").status_code == 404
    assert world.a.client("owner").get(f"/api/v1/imports/{job['id']}").status_code == 200
    assert world.a.client("affiliate").get(f"/api/v1/imports/{job['id']}").status_code == 403
    listed = world.a.client("advertiser").get("/api/v1/imports").json()
    assert [row["id"] for row in listed["results"]] == [job["id"]]
    assert world.b.client("advertiser").get("/api/v1/imports").json()["results"] == []
    assert upload(world.a.client("affiliate"), csv_bytes(HEADER[:3], [["T-2", "1", "EUR"]])).status_code == 403
    assert upload(world.a.client("owner"), csv_bytes(HEADER[:3], [["T-3", "1", "EUR"]])).status_code == 403


def test_another_advertisers_job_answers_404(world, shop):
    from tests.factories import make_advertiser

    job = imported(world.a.client("advertiser"), csv_bytes(HEADER[:3], [["O-1", "1.00", "EUR"]]))
    _, issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    from tests.conftest import api_client

    assert api_client(issued.raw).get(f"/api/v1/imports/{job['id']}").status_code == 404


def test_idempotency_key_returns_the_first_job_without_a_second_import(world, shop):
    client = world.a.client("advertiser")
    data = csv_bytes(HEADER[:3], [["I-1", "5.00", "EUR"]])
    first = upload(client, data, HTTP_IDEMPOTENCY_KEY="import-1")
    second = upload(client, data, HTTP_IDEMPOTENCY_KEY="import-1")
    assert first.status_code == second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert ConversionImport.objects.count() == 1
    other = upload(client, csv_bytes(HEADER[:3], [["I-2", "5.00", "EUR"]]), HTTP_IDEMPOTENCY_KEY="import-1")
    assert other.status_code == 422


def test_idempotency_key_works_for_a_file_larger_than_djangos_body_limit(world, shop, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = world.a.client("advertiser")
    data = csv_bytes(HEADER[:3], [[f"L-{n}", "1.00", "EUR"] for n in range(300)])
    assert len(data) > 1024
    first = upload(client, data, HTTP_IDEMPOTENCY_KEY="big-1")
    assert first.status_code == 202, first.content
    assert client.get(f"/api/v1/imports/{first.json()['id']}").json()["created"] == 300
    assert imported(client, data, HTTP_IDEMPOTENCY_KEY="big-1")["id"] == first.json()["id"]


def test_commissions_and_ledger_after_an_import_equal_those_of_the_postback(world):
    """The same sales, imported into network a and posted one by one into network b, earn the same money."""
    shops = {"a": make_shop(world.a), "b": make_shop(world.b)}
    sales = [("M-1", "100.00", "link"), ("M-2", "35.50", "link2"), ("M-3", "12.00", None), ("M-4", "99.99", "link")]
    clicks = {name: [click_at(getattr(shops[name], link), timedelta(hours=3)) if link else None
                     for _, _, link in sales] for name in shops}
    rows = [[order, amount, "EUR", click.click_id if click else ""]
            for (order, amount, _), click in zip(sales, clicks["a"], strict=True)]
    job = imported(world.a.client("advertiser"), csv_bytes(HEADER[:4], rows))
    assert job["created"] == 4
    for (order, amount, _), click in zip(sales, clicks["b"], strict=True):
        response = committed(post_conversion, world.b.client("advertiser"), order_id=order, amount=amount,
                                   **({"click_id": click.click_id} if click else {}))
        assert response.status_code == 201

    def money(network):
        return [(order, tier, amount, currency, status) for order, tier, amount, currency, status
                in commission_rows(network)]

    assert money(world.a.network) == money(world.b.network)
    assert len(money(world.a.network)) == 3
    assert ledger_sums(world.a.network) == ledger_sums(world.b.network)
    conversions = {name: sorted(Conversion.objects.for_network(getattr(world, name).network).values_list(
        "order_id", "attribution", "status", "amount", "fraud_signals")) for name in ("a", "b")}
    assert conversions["a"] == conversions["b"]


def test_a_coupon_and_a_known_customer_attribute_as_in_the_postback(world, shop):
    client = world.a.client("advertiser")
    first_click = click_at(shop.link, timedelta(hours=5))
    assert committed(post_conversion, client, order_id="C-0", click_id=first_click.click_id,
                     customer_id="cust-9").status_code == 201
    job = imported(client, csv_bytes(["order_id", "amount", "currency", "coupon", "customer_id"], [
        ["C-1", "10.00", "EUR", shop.coupon.code, ""],
        ["C-2", "10.00", "EUR", "", "cust-9"],
        ["C-3", "10.00", "EUR", "NOBODY", ""],
    ]))
    assert (job["created"], job["errors"]) == (3, [])
    stored = {c.order_id: c for c in Conversion.objects.for_network(world.a.network)}
    assert (stored["C-1"].attribution, stored["C-1"].affiliate_id) == ("coupon", world.a.affiliate2.pk)
    assert (stored["C-2"].attribution, stored["C-2"].affiliate_id) == ("customer", world.a.affiliate.pk)
    assert stored["C-3"].attribution == "none" and stored["C-3"].coupon_code == "NOBODY"


def test_a_repeated_order_under_another_id_is_flagged_as_by_the_postback(world):
    shop = make_shop(world.a, fraud_policy="hold")
    click = click_at(shop.link, timedelta(hours=1))
    job = imported(world.a.client("advertiser"), csv_bytes(HEADER[:4], [
        ["R-1", "10.00", "EUR", click.click_id], ["R-2", "10.00", "EUR", click.click_id]]))
    assert job["created"] == 2
    second = Conversion.objects.for_network(world.a.network).get(order_id="R-2")
    assert "duplicate_order" in second.fraud_signals and second.status == "held"
    assert Conversion.objects.for_network(world.a.network).get(order_id="R-1").fraud_signals == []


def test_a_rerun_of_a_finished_or_half_done_job_records_nothing_twice(world, shop, settings):
    from tracking import imports

    data = csv_bytes(HEADER[:3], [[f"H-{n}", "1.00", "EUR"] for n in range(5)])
    job = ConversionImport.objects.get(pk=imported(world.a.client("advertiser"), data)["id"])
    ConversionImport.objects.filter(pk=job.pk).update(status="running", processed=2, created=2)
    imports.conversion_import_run(network_id=world.a.network.pk, import_id=job.pk)
    job.refresh_from_db()
    # Rows 3 to 5 were recorded by the first run: the rerun finds them, counted as duplicates, written once.
    assert (job.status, job.processed, job.created, job.duplicates) == ("done", 5, 2, 3)
    assert Conversion.objects.for_network(world.a.network).count() == 5


def _queued_job(world, order: str) -> ConversionImport:
    """A job as the upload leaves it, before its task ran."""
    from tracking import imports

    data = csv_bytes(HEADER[:3], [[order, "1.00", "EUR"]])
    return imports.conversion_import_create(network=world.a.network, advertiser=world.a.advertiser, data=data)


def test_the_import_task_finds_its_job_only_in_the_network_it_names(world, shop):
    from tracking.tasks_imports import conversion_import_process

    job = _queued_job(world, "N-1")
    assert conversion_import_process.run(job.pk, world.b.network.pk) == "missing"
    job.refresh_from_db()
    assert (job.status, job.processed) == ("queued", 0)
    assert not Conversion.objects.filter(order_id="N-1").exists()
    assert conversion_import_process.run(job.pk, world.a.network.pk) == "done"
    assert Conversion.objects.for_network(world.a.network).filter(order_id="N-1").count() == 1


def test_an_import_task_queued_without_its_network_still_runs(world, shop):
    """A message queued before the task took the network (one argument) finds the network from the job."""
    from tracking.tasks_imports import conversion_import_process

    job = _queued_job(world, "OLD-1")
    assert conversion_import_process.run(job.pk) == "done"
    assert Conversion.objects.for_network(world.a.network).filter(order_id="OLD-1").count() == 1
    assert conversion_import_process.run(10**9) == "missing"


def test_the_upload_queues_its_task_with_its_network(world, shop, django_capture_on_commit_callbacks):
    from unittest import mock

    from tracking import tasks_imports

    with mock.patch.object(tasks_imports.conversion_import_process, "delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        job = _queued_job(world, "Q-1")
    delay.assert_called_once_with(job.pk, world.a.network.pk)


def test_an_imported_row_of_a_first_click_program_credits_the_visitors_first_click(world):
    shop = make_shop(world.a, attribution_model="first_click", attribution_window_days=30)
    first = click_at(shop.link2, ago=timedelta(days=3), ip_hash="a" * 64)
    later = click_at(shop.link, ago=timedelta(hours=1), ip_hash="a" * 64)
    data = csv_bytes(["order_id", "amount", "currency", "click_id"], [["FC-1", "100.00", "EUR", later.click_id]])
    job = imported(world.a.client("advertiser"), data)
    assert job["status"] == "done" and job["created"] == 1, job
    conversion = Conversion.objects.for_network(world.a.network).get(order_id="FC-1")
    assert conversion.click_id == later.click_id and conversion.first_click_id == first.click_id
    assert conversion.affiliate_id == world.a.affiliate2.pk and conversion.link_id == shop.link2.pk
