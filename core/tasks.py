"""Celery task options in one place: every task is `@task(...)`, Celery's `shared_task` with TASK_DEFAULTS.

Each task acks late (a worker that dies mid-task leaves it to another), retries with exponential backoff only on
the errors it names (where running it again is harmless: tasks take ids and are idempotent) and has a time limit
(the soft one raises `SoftTimeLimitExceeded` in the task; the hard one kills it). Keep CELERY_BROKER_TRANSPORT_OPTIONS'
visibility_timeout above the longest hard limit.
"""

from celery import shared_task
from django.db import DatabaseError

TASK_DEFAULTS = {"acks_late": True, "retry_backoff": True}

# Time limits (soft, hard seconds) by the size of the work; each leaves several times the usual run.
QUICK = {"soft_time_limit": 45, "time_limit": 60}  # one row or one outbound call
DRAIN = {"soft_time_limit": 60, "time_limit": 90}  # one drain of the click queue (stops reading after 4 s)
BATCH = {"soft_time_limit": 240, "time_limit": 300}  # a batch of rows (up to 500 conversions), a few e-mails
SWEEP = {"soft_time_limit": 840, "time_limit": 900}  # a sweep over a backlog, committed in steps (rerun by beat)
LONG = {"soft_time_limit": 1800, "time_limit": 1900}  # hourly work over every network, resumable

# What a task retries on, and how often.
RETRY_DATABASE = {"autoretry_for": (DatabaseError,), "max_retries": 8}  # a lock, a failover, a lost connection
RETRY_MAIL = {"autoretry_for": (OSError,), "max_retries": 5}  # the mail server unreachable


def task(**options):
    """`shared_task` with TASK_DEFAULTS and the BATCH time limits, `options` overriding them. The task's name stays
    `<module>.<function>` (beat entries and queued messages refer to it)."""
    return shared_task(**{**TASK_DEFAULTS, **BATCH, **options})
