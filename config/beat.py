"""Celery beat's table: every periodic task of every app, in one place (settings.CELERY_BEAT_SCHEDULE).

Names and task strings are stable: django_celery_beat keeps the entries by name, and the task strings are the
registered names of the tasks (`<module>.<function>`). Times are UTC (CELERY_TIMEZONE); tasks that act per
network work in each network's time zone themselves.
"""

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # --- network: API POSTs' Idempotency-Keys are kept 24 hours
    "network-idempotency-keys-purge": {"task": "network.tasks.idempotency_keys_purge_task", "schedule": 3600.0},
    # --- network: verified tracking domains re-checked daily (CNAME and TXT), unverified after repeated failures
    "network-tracking-domains-recheck": {
        "task": "network.tasks.tracking_domains_recheck_task", "schedule": crontab(hour=4, minute=17),
    },
    # --- tracking: the click queue, its partitions and retention; conversions still waiting for their click
    "tracking-clicks-ingest": {"task": "tracking.tasks_clicks.clicks_ingest", "schedule": 5.0},
    "tracking-click-partitions": {"task": "tracking.tasks_clicks.click_partitions_ensure", "schedule": 3600.0},
    "tracking-clicks-retention": {"task": "tracking.tasks_clicks.clicks_retention_purge", "schedule": 6 * 3600.0},
    "tracking-member-addresses-retention": {
        "task": "tracking.tasks_clicks.member_addresses_retention_purge", "schedule": 6 * 3600.0,
    },
    "tracking-attribute-overdue-conversions": {
        "task": "tracking.tasks_outbound.conversions_attribute_overdue", "schedule": 60.0,
    },
    # --- commissions: hold-period approvals, the catch-up of lost kicks, tier true-ups, CPC accrual
    "commissions-approve-due": {
        "task": "commissions.tasks.commissions_approve_due_task", "schedule": crontab(minute="*/15"),
    },
    "commissions-catch-up": {"task": "commissions.tasks.commissions_catch_up_task", "schedule": crontab(minute="*/5")},
    "commissions-tier-trueups": {"task": "commissions.tasks.tier_trueups_task", "schedule": crontab(minute=23)},
    "commissions-cpc-accrue": {"task": "commissions.tasks.cpc_accrue_task", "schedule": crontab(minute=7)},
    # --- reports: the day tables' differences folded in (readers add the rest, so this only keeps them small)
    "reports-day-changes-fold": {"task": "reports.tasks.day_changes_fold", "schedule": 10.0},
    # --- payouts: hourly, each network's schedule is checked in its own time zone; a batch runs once per period
    "payouts-scheduled": {"task": "payouts.tasks.payouts_scheduled_task", "schedule": crontab(minute=20)},
}
