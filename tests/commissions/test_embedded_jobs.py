"""The embedded default without a broker (so without beat): the web process runs the recovery jobs itself; a
database lock that outlasts the wait answers 503 with nothing written, never a 500 or a stuck payout batch."""

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from commissions import receivers
from commissions.models import Commission
from core import embedded
from core.dbretry import retry_locked
from payouts import batches
from payouts.models import MethodKind, Payout, PayoutBatch
from tests.payouts.helpers import earn, method

from .helpers import assert_ledger_consistent, convert, program_with_link

D = Decimal
WSGI_THREADS = (
    "import os, threading; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; import config.wsgi; "
    "print(sorted(t.name for t in threading.enumerate() if t.name == 'embedded-jobs'))"
)


def _wsgi_threads(tmp_path, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CLICK_QUEUE_URL"}}
    result = subprocess.run([sys.executable, "-c", WSGI_THREADS], capture_output=True, text=True, timeout=120,
                            env=base | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"} | env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_web_process_runs_the_embedded_jobs_only_without_a_broker(tmp_path):
    assert _wsgi_threads(tmp_path) == "['embedded-jobs']"
    assert _wsgi_threads(tmp_path, EMBEDDED_CATCH_UP_SECONDS="0") == "[]"
    assert _wsgi_threads(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15") == "[]"  # beat's work there


def test_the_embedded_jobs_are_the_catch_up_and_the_payout_resumption():
    assert {"commissions-catch-up", "payouts-resume"} <= set(embedded._jobs)


@pytest.mark.django_db
def test_a_refund_the_locked_database_refuses_answers_503_and_writes_nothing(world, monkeypatch):
    a = world.a
    _, link = program_with_link(a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    conversion, [commission] = convert(a, link, "ORD-L", "100.00")

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(receivers, "commissions_reverse_for_refund", locked)
    response = a.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", {}, format="json")
    assert response.status_code == 503
    assert response.json() == {"detail": "The database is busy; try again in a moment."}
    assert response["Retry-After"] == "1"
    conversion.refresh_from_db()
    commission.refresh_from_db()
    assert conversion.refunded_amount == 0 and commission.reversed_amount == 0
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_payout_batch_whose_run_the_database_refuses_is_started_and_resumed_by_the_embedded_jobs(
        world, settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = ""
    a = world.a
    earn(a, "30.00")
    method(a.affiliate, MethodKind.PAYPAL)
    gather = batches._gather

    def locked(batch):
        raise OperationalError("database is locked")

    monkeypatch.setattr(batches, "_gather", locked)
    response = a.client("owner").post("/api/v1/payout-batches")
    assert response.status_code == 201 and response.json()["status"] == "gathering"
    assert a.client("owner").post("/api/v1/payout-batches").status_code == 409  # one running batch at a time

    monkeypatch.setattr(batches, "_gather", gather)
    assert embedded.run_jobs()["payouts-resume"] == 0  # not stale yet: it may still be running
    PayoutBatch.objects.update(updated_at=timezone.now() - timedelta(minutes=2))
    assert embedded.run_jobs()["payouts-resume"] == 1
    batch = PayoutBatch.objects.get()
    assert batch.status not in PayoutBatch.RUNNING
    assert Payout.objects.get().amount == D("30.00")
    assert not Commission.objects.filter(status=Commission.Status.APPROVED).exists()
    assert_ledger_consistent()


def test_retry_locked_calls_again_while_the_database_is_locked():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("database is locked")
        return "done"

    assert retry_locked(flaky, delay=0) == "done" and len(calls) == 3


def test_retry_locked_gives_up_and_leaves_other_errors_alone():
    calls = []

    def locked():
        calls.append(1)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        retry_locked(locked, attempts=3, delay=0)
    assert len(calls) == 3

    def broken():
        calls.append(1)
        raise OperationalError("no such table: x")

    calls.clear()
    with pytest.raises(OperationalError):
        retry_locked(broken, delay=0)
    with pytest.raises(IntegrityError):
        retry_locked(lambda: (_ for _ in ()).throw(IntegrityError("unique")), delay=0)
    assert len(calls) == 1


@pytest.mark.django_db
def test_retry_locked_does_not_retry_inside_a_callers_transaction():
    calls = []

    def locked():
        calls.append(1)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError), transaction.atomic():
        retry_locked(locked, delay=0)
    assert len(calls) == 1


@pytest.mark.django_db
def test_a_web_page_the_locked_database_refuses_answers_503_not_500(world, monkeypatch):
    from payouts import operator_views
    from tests.pages import web_client

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(operator_views, "payout_batch_start", locked)
    response = web_client(world.a.owner).post("/operator/payouts/batches/")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "Busy for a moment" in response.content.decode()
    assert not PayoutBatch.objects.exists()


@pytest.mark.django_db
def test_the_postback_answers_503_with_a_detail_when_the_database_stays_locked(world, monkeypatch):
    from tracking import api

    def locked(request):
        raise OperationalError("database is locked")

    monkeypatch.setattr(api, "postback_fast", locked)
    response = world.a.client("advertiser").post(
        "/api/v1/conversions", {"order_id": "ORD-B", "amount": "10.00", "currency": "EUR"}, format="json")
    assert response.status_code == 503
    assert response.json() == {"detail": "The database is busy; try again in a moment."}


@pytest.mark.django_db
def test_the_embedded_beat_runs_each_entry_of_beats_table_when_due(world, settings):
    """Without a broker nothing else runs beat's table: a commission past its hold period is approved in-process."""
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    _, [commission] = convert(world.a, link, "ORD-BEAT", "100.00")
    Commission.objects.filter(network=world.a.network, pk=commission.pk).update(
        hold_until=timezone.now() - timedelta(minutes=1))
    embedded._beat_last_run.clear()
    assert embedded.beat_tick() == {}  # the first tick starts the clocks: nothing is due at start-up
    for name in embedded._beat_last_run:
        embedded._beat_last_run[name] -= timedelta(days=2)
    results = embedded.beat_tick()
    assert set(results) == set(settings.CELERY_BEAT_SCHEDULE)
    assert [name for name, value in results.items() if isinstance(value, Exception)] == []
    commission.refresh_from_db()
    assert commission.status == Commission.Status.APPROVED
    assert embedded.beat_tick() == {}  # each ran now: none is due again yet
    embedded._beat_last_run.clear()
