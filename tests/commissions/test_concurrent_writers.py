"""Many writers at once (real threads, each with its own connection; on SQLite a file database, as the embedded
default serves it): every sale keeps its commission, payout batch starts and refunds answer 4xx or succeed, never
500, and nothing is left half-written or stuck."""

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from commissions import services as commission_services
from commissions.models import Commission
from commissions.tasks import EMBEDDED_SETTLE_SECONDS
from core import embedded
from payouts.models import MethodKind, Payout, PayoutBatch
from tests.conftest import api_client
from tests.payouts.helpers import earn, method
from tests.tracking.conversions_support import click_at, make_shop
from tracking.models import Conversion

from .helpers import assert_ledger_consistent, program_with_link

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def _in_threads(count: int, target) -> tuple[Counter, list]:
    """`target(n)` in `count` threads started together; the status codes it returned, and what it raised."""
    barrier, statuses, errors, lock = threading.Barrier(count), Counter(), [], threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait()
            codes = target(n)
            with lock:
                statuses.update(codes)
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, errors


def test_the_sqlite_database_is_set_up_for_concurrent_writers():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's settings (PostgreSQL locks rows by itself)")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 5
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_twenty_threads_posting_the_same_six_orders_leave_every_conversion_with_its_commission(world):
    a = world.a
    shop = make_shop(a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    clicks = [click_at(shop.link, timedelta(minutes=30 + n)) for n in range(6)]

    def post_all(n: int) -> list[int]:
        client = api_client(a.advertiser_key)
        codes = []
        for i in range(6):
            order = (i + n) % 6  # every thread starts with another order
            codes.append(client.post("/api/v1/conversions", {
                "order_id": f"ORD-{order}", "amount": "49.90", "currency": "EUR",
                "click_id": clicks[order].click_id}, format="json").status_code)
        return codes

    statuses, errors = _in_threads(20, post_all)
    assert errors == []
    assert statuses == Counter({201: 6, 200: 114})
    conversions = Conversion.objects.filter(network=a.network)
    assert conversions.count() == 6 and not conversions.filter(affiliate__isnull=True).exists()
    assert not conversions.filter(commissions__isnull=True).exists()
    assert sorted(Commission.objects.values_list("amount", flat=True)) == [D("4.99")] * 6
    assert_ledger_consistent()


def test_a_computation_the_database_refuses_after_commit_is_caught_up_by_the_embedded_jobs(world, monkeypatch):
    a = world.a
    shop = make_shop(a)
    click = click_at(shop.link)
    real = commission_services.commissions_for_conversion
    calls = []

    def locked(**kwargs):
        calls.append(kwargs)
        raise OperationalError("database is locked")

    monkeypatch.setattr(commission_services, "commissions_for_conversion", locked)
    response = api_client(a.advertiser_key).post("/api/v1/conversions", {
        "order_id": "ORD-LOCKED", "amount": "100.00", "currency": "EUR", "click_id": click.click_id}, format="json")
    assert response.status_code == 201  # the conversion is committed: its request does not fail
    assert len(calls) > 1  # retried before giving up
    conversion = Conversion.objects.get(pk=response.json()["id"])
    assert not Commission.objects.exists()

    monkeypatch.setattr(commission_services, "commissions_for_conversion", real)
    assert embedded.run_jobs()["commissions-catch-up"] == 0  # too fresh: a request may still be computing it
    Conversion.objects.filter(pk=conversion.pk).update(
        created_at=conversion.created_at - timedelta(seconds=EMBEDDED_SETTLE_SECONDS + 1))
    assert embedded.run_jobs()["commissions-catch-up"] == 1
    assert Commission.objects.get().conversion_id == conversion.pk
    assert_ledger_consistent()


def test_concurrent_payout_batch_starts_answer_201_or_409_and_leave_no_batch_running(world, settings):
    settings.STRIPE_SECRET_KEY = ""
    a = world.a
    for affiliate in (a.affiliate, a.affiliate2):
        earn(a, "30.00", affiliate=affiliate)
        method(affiliate, MethodKind.PAYPAL)

    statuses, errors = _in_threads(
        8, lambda n: [api_client(a.owner_key).post("/api/v1/payout-batches").status_code])
    assert errors == []
    assert set(statuses) <= {201, 409} and statuses[201] >= 1
    assert not PayoutBatch.objects.filter(status__in=PayoutBatch.RUNNING).exists()
    assert Payout.objects.count() == 2  # each affiliate paid once, whichever batch took them
    assert not Commission.objects.filter(status=Commission.Status.APPROVED).exists()
    assert_ledger_consistent()


def test_concurrent_refunds_answer_200_or_400_and_reverse_exactly_what_was_refunded(world):
    a = world.a
    _, link = program_with_link(a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    from .helpers import convert

    conversion, [commission] = convert(a, link, "ORD-R", "100.00")
    statuses, errors = _in_threads(10, lambda n: [api_client(a.advertiser_key).post(
        f"/api/v1/conversions/{conversion.pk}/refund", {"amount": "30.00"}, format="json").status_code])
    assert errors == []
    assert statuses == Counter({200: 3, 400: 7})
    conversion.refresh_from_db()
    commission.refresh_from_db()
    assert conversion.refunded_amount == D("90.00")
    assert commission.reversed_amount == D("9.00")
    assert_ledger_consistent()
