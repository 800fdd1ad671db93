"""The wiring of Celery: one beat table (config/beat.py), every task with the shared options (core/tasks.py), the
registered task names unchanged (beat entries and queued messages refer to them)."""

import pytest
from django.conf import settings

from config import beat
from config.celery import app
from core import tasks as task_options

TASK_NAMES = {
    "tracking.tasks_imports.conversion_import_process",
    "commissions.tasks.commission_compute_task",
    "commissions.tasks.commission_email_task",
    "commissions.tasks.commission_emails_task",
    "commissions.tasks.commissions_approve_due_task",
    "commissions.tasks.commissions_catch_up_task",
    "commissions.tasks.commissions_compute_batch_task",
    "commissions.tasks.cpc_accrue_task",
    "commissions.tasks.tier_trueups_task",
    "network.tasks.idempotency_keys_purge_task",
    "network.tasks.tracking_domains_recheck_task",
    "payouts.tasks.payout_batch_run_task",
    "payouts.tasks.payout_email_task",
    "payouts.tasks.payouts_scheduled_task",
    "reports.tasks.day_changes_fold",
    "reports.tasks.rebuild_days",
    "tracking.tasks_clicks.click_partitions_ensure",
    "tracking.tasks_clicks.clicks_ingest",
    "tracking.tasks_clicks.clicks_retention_purge",
    "tracking.tasks_clicks.member_addresses_retention_purge",
    "tracking.tasks_outbound.conversion_attribute_late",
    "tracking.tasks_outbound.conversions_attribute_overdue",
    "tracking.tasks_outbound.delivery_send",
}
BEAT = {
    "network-idempotency-keys-purge": ("network.tasks.idempotency_keys_purge_task", "3600.0"),
    "network-tracking-domains-recheck": ("network.tasks.tracking_domains_recheck_task", "<crontab: 17 4 * * *"),
    "tracking-clicks-ingest": ("tracking.tasks_clicks.clicks_ingest", "5.0"),
    "tracking-click-partitions": ("tracking.tasks_clicks.click_partitions_ensure", "3600.0"),
    "tracking-clicks-retention": ("tracking.tasks_clicks.clicks_retention_purge", "21600.0"),
    "tracking-member-addresses-retention": ("tracking.tasks_clicks.member_addresses_retention_purge", "21600.0"),
    "tracking-attribute-overdue-conversions": ("tracking.tasks_outbound.conversions_attribute_overdue", "60.0"),
    "commissions-approve-due": ("commissions.tasks.commissions_approve_due_task", "<crontab: */15 * * * *"),
    "commissions-catch-up": ("commissions.tasks.commissions_catch_up_task", "<crontab: */5 * * * *"),
    "commissions-tier-trueups": ("commissions.tasks.tier_trueups_task", "<crontab: 23 * * * *"),
    "commissions-cpc-accrue": ("commissions.tasks.cpc_accrue_task", "<crontab: 7 * * * *"),
    "reports-day-changes-fold": ("reports.tasks.day_changes_fold", "10.0"),
    "payouts-scheduled": ("payouts.tasks.payouts_scheduled_task", "<crontab: 20 * * * *"),
}


def _app_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: app.tasks[name] for name in app.tasks if not name.startswith("celery.")}


def test_the_registered_task_names_stay_the_same():
    assert set(_app_tasks()) == TASK_NAMES


def test_the_beat_schedule_is_the_one_table_with_every_entry_unchanged():
    assert settings.CELERY_BEAT_SCHEDULE is beat.CELERY_BEAT_SCHEDULE  # no app adds entries of its own
    assert set(settings.CELERY_BEAT_SCHEDULE) == set(BEAT)
    for name, (task, schedule) in BEAT.items():
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert set(entry) == {"task", "schedule"}
        assert entry["task"] == task
        assert str(entry["schedule"]).startswith(schedule), (name, entry["schedule"])
        assert entry["task"] in _app_tasks()


def test_every_task_acks_late_retries_with_backoff_and_has_its_own_time_limit():
    for name, task in _app_tasks().items():
        assert task.acks_late, name
        assert task.retry_backoff, name
        assert task.autoretry_for, name
        # Set on the task itself, not only Celery's global default.
        assert "time_limit" in type(task).__dict__ and "soft_time_limit" in type(task).__dict__, name
        assert 0 < task.soft_time_limit < task.time_limit, name


@pytest.mark.parametrize(("name", "limits"), [
    ("commissions.tasks.commission_compute_task", task_options.QUICK),
    ("commissions.tasks.commissions_compute_batch_task", task_options.BATCH),
    ("commissions.tasks.commissions_catch_up_task", task_options.SWEEP),
    ("commissions.tasks.commissions_approve_due_task", task_options.SWEEP),
    ("commissions.tasks.cpc_accrue_task", task_options.LONG),
    ("commissions.tasks.tier_trueups_task", task_options.LONG),
    ("tracking.tasks_clicks.clicks_ingest", task_options.DRAIN),
    ("tracking.tasks_clicks.click_partitions_ensure", task_options.BATCH),
    ("tracking.tasks_clicks.clicks_retention_purge", task_options.LONG),
    ("payouts.tasks.payout_batch_run_task", task_options.LONG),
])
def test_commission_and_click_tasks_have_time_limits_their_work_fits_in(name, limits):
    task = _app_tasks()[name]
    assert (task.soft_time_limit, task.time_limit) == (limits["soft_time_limit"], limits["time_limit"])


def test_a_click_drain_fits_its_limit_and_beat_period():
    # The beat task drains for at most 4 s (its default), well inside the soft limit.
    from tracking.tasks_clicks import clicks_ingest

    assert clicks_ingest.__wrapped__.__defaults__ == (4.0,)
    assert task_options.DRAIN["soft_time_limit"] >= 10 * 4.0


def test_an_unacknowledged_task_is_not_handed_to_a_second_worker_while_it_may_still_run():
    longest = max(task.time_limit for task in _app_tasks().values())
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > longest


def test_tracking_tasks_module_names_its_tasks():
    from tracking import tasks, tasks_clicks, tasks_outbound

    assert tasks.clicks_ingest is tasks_clicks.clicks_ingest
    assert tasks.delivery_send is tasks_outbound.delivery_send
    assert sorted(tasks.__all__) == sorted(name.rsplit(".", 1)[1] for name in TASK_NAMES if ".tasks_" in name)
