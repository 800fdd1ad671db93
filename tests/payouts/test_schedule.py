"""Schedules: when a period is due, the hourly task runs each network's batch once per period, resumes stale ones."""

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from payouts import tasks
from payouts.batches import payout_batch_start
from payouts.models import MethodKind, Payout, PayoutBatch
from payouts.policy import PayoutPolicy, payout_policy

from .helpers import earn, method

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("policy", "today", "expected"), [
    (PayoutPolicy(schedule_kind="manual"), date(2026, 11, 23), None),
    (PayoutPolicy(schedule_kind="weekly", weekday=0), date(2026, 11, 23), "weekly:2026-W48"),  # a Monday
    (PayoutPolicy(schedule_kind="weekly", weekday=4), date(2026, 11, 23), None),  # Friday not reached
    (PayoutPolicy(schedule_kind="weekly", weekday=4), date(2026, 11, 29), "weekly:2026-W48"),  # caught up Sunday
    (PayoutPolicy(schedule_kind="monthly", day=15), date(2026, 11, 14), None),
    (PayoutPolicy(schedule_kind="monthly", day=15), date(2026, 11, 15), "monthly:2026-11"),
    (PayoutPolicy(schedule_kind="monthly", day=31), date(2026, 2, 28), "monthly:2026-02"),  # clamped
    (PayoutPolicy(schedule_kind="monthly", day=31), date(2026, 2, 27), None),
])
def test_period_due(policy, today, expected):
    assert policy.period_due(today) == expected


def test_invalid_stored_settings_fall_back_to_a_manual_schedule(world):
    world.a.network.payout_settings = {"schedule": {"kind": "hourly"}}
    assert payout_policy(world.a.network).schedule_kind == "manual"


def test_the_beat_entry_is_registered():
    entry = django_settings.CELERY_BEAT_SCHEDULE["payouts-scheduled"]
    assert entry["task"] == "payouts.tasks.payouts_scheduled_task"


def test_scheduled_batches_run_once_per_period_and_only_when_due(world, monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = ""
    a, b = world.a, world.b
    a.network.payout_settings = {"schedule": {"kind": "weekly", "weekday": 0}}
    a.network.save()
    b.network.payout_settings = {"schedule": {"kind": "monthly", "day": 28}}
    b.network.save()
    for tenant in (a, b):
        earn(tenant, "20.00")
        method(tenant.affiliate, MethodKind.PAYPAL)
    today = {"value": date(2026, 11, 23)}
    monkeypatch.setattr(tasks, "_local_today", lambda network: today["value"])
    [started] = tasks.payouts_scheduled_task.delay().get()
    batch = PayoutBatch.objects.get(pk=started)
    assert batch.network_id == a.network.pk and batch.period_key == "weekly:2026-W48"
    assert batch.trigger == "schedule" and batch.status == "processing"
    earn(a, "5.00")
    assert tasks.payouts_scheduled_task.delay().get() == []  # same week: nothing new
    today["value"] = date(2026, 11, 30)  # next week, and b's month day passed
    started = tasks.payouts_scheduled_task.delay().get()
    assert len(started) == 2
    assert sorted(PayoutBatch.objects.values_list("period_key", flat=True)) == [
        "monthly:2026-11", "weekly:2026-W48", "weekly:2026-W49"]
    assert Payout.objects.filter(network=a.network).count() == 2


def test_a_running_batch_defers_the_scheduled_one_and_stale_batches_are_resumed(world, monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = ""
    a = world.a
    a.network.payout_settings = {"schedule": {"kind": "weekly", "weekday": 0}}
    a.network.save()
    earn(a, "20.00")
    method(a.affiliate, MethodKind.PAYPAL)
    monkeypatch.setattr(tasks, "_local_today", lambda network: date(2026, 11, 23))
    stuck = payout_batch_start(network=a.network)  # crashed before gathering, just now
    assert tasks.payouts_scheduled_task.delay().get() == []
    stuck.refresh_from_db()
    assert stuck.status == "gathering"
    PayoutBatch.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert tasks.payouts_scheduled_task.delay().get() == []  # resumes the stale one first
    stuck.refresh_from_db()
    assert stuck.status == "processing" and stuck.total == 1
    [started] = tasks.payouts_scheduled_task.delay().get()  # then the week's batch (nothing left to pay)
    assert PayoutBatch.objects.get(pk=started).total == 0
