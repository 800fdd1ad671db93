"""The embedded default's stand-in for Celery beat: with no broker there is no beat, so the web process runs, in
one daemon thread every `EMBEDDED_CATCH_UP_SECONDS`, the registered recovery jobs and every entry of beat's own
table (`CELERY_BEAT_SCHEDULE`: hold-period approvals, tier true-ups, CPC accrual, scheduled payouts...) that is
due by its schedule, in-process. One schedule for both runtimes: an entry added there runs here too.

Apps register their jobs in `AppConfig.ready()` (`register(...)`); the web entry points call `start()`, which
does nothing unless the embedded mode is on (no `REDIS_URL`, the interval above 0). A job must be idempotent and
safe beside the same work done by requests; a failing job is logged and tried again at the next tick.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime

from celery import current_app
from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)
_jobs: dict[str, Callable[[], object]] = {}
_lock = threading.Lock()
_started_pid: int | None = None
_beat_last_run: dict[str, datetime] = {}  # entry name -> when this process last ran it (or started watching it)


def register(name: str, job: Callable[[], object]) -> None:
    _jobs[name] = job


def run_jobs() -> dict[str, object]:
    """Run every registered job once, each on its own; what each returned (or the exception it raised)."""
    results: dict[str, object] = {}
    for name, job in list(_jobs.items()):
        try:
            results[name] = job()
        except Exception as exc:  # noqa: BLE001 (a recovery job must not end the thread; the next tick retries)
            logger.exception("Embedded job %s failed; it runs again in %s s.", name, interval())
            results[name] = exc
    return results


def beat_tick() -> dict[str, object]:
    """Run each beat entry that is due (by its own schedule, since this process last ran it) as an in-process
    task; what each returned (or the exception it raised). An entry is first due one period after start-up."""
    app = current_app
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker imports them (once)
    results: dict[str, object] = {}
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = maybe_schedule(entry["schedule"], app=app)
        last = _beat_last_run.setdefault(name, schedule.now())
        if not schedule.is_due(last).is_due:
            continue
        _beat_last_run[name] = schedule.now()
        try:
            results[name] = app.tasks[entry["task"]].apply(
                args=entry.get("args", ()), kwargs=entry.get("kwargs", {})).get()
        except Exception as exc:  # noqa: BLE001 (one failing entry must not stop the others; it runs when due again)
            logger.exception("Embedded beat entry %s failed.", name)
            results[name] = exc
    return results


def interval() -> float:
    return float(getattr(settings, "EMBEDDED_CATCH_UP_SECONDS", 0) or 0)


def enabled() -> bool:
    return interval() > 0 and bool(settings.CELERY_TASK_ALWAYS_EAGER)


def start() -> bool:
    """Start the thread in this process (once; again in a forked child). True when it runs."""
    global _started_pid
    if not enabled():
        return False
    with _lock:
        if _started_pid == os.getpid():
            return True
        _started_pid = os.getpid()
        threading.Thread(target=_loop, name="embedded-jobs", daemon=True).start()
    logger.info("Embedded jobs (%s) run every %s s in this process.", ", ".join(_jobs), interval())
    return True


def _loop() -> None:
    while True:
        time.sleep(interval())
        close_old_connections()
        try:
            results = run_jobs() | beat_tick()
        finally:
            connections.close_all()  # this thread's connections: the next tick opens fresh ones
        if any(results.values()):
            logger.info("Embedded jobs: %s", results)
