"""Celery tasks of payouts: run (or resume) a batch, the scheduled runs, e-mails."""

import logging
import zoneinfo
from datetime import timedelta

from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import DatabaseError
from django.dispatch import receiver
from django.utils import timezone

from core.tasks import BATCH, LONG, RETRY_DATABASE, RETRY_MAIL, task
from network.models import Network

from .batches import BatchRunning, payout_batch_run, payout_batch_start
from .emails import payout_email_send
from .models import Payout, PayoutBatch
from .policy import payout_policy
from .signals import payout_email_due

logger = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)


class BatchNotFinished(Exception):
    """The provider was unreachable for some payouts: retry the batch later."""


# A large batch may outlive the default time limit: the soft limit stops it between two committed steps (or rolls
# back the step in flight) and the retry resumes it where it stopped.
@task(bind=True, autoretry_for=(DatabaseError, BatchNotFinished, SoftTimeLimitExceeded), retry_backoff=60,
      retry_backoff_max=3600, max_retries=10, **LONG)
def payout_batch_run_task(self, batch_id: int, network_id: int | None = None) -> str:
    """`network_id` routes the batch's reads to its network; a message queued without it reads by id, as before."""
    batch = payout_batch_run(batch_id=batch_id, network_id=network_id)
    if batch.status in PayoutBatch.RUNNING and batch.last_error and not self.request.is_eager:
        raise BatchNotFinished(batch.last_error)
    return batch.status


def payout_batch_run_now(batch_id: int, network_id: int | None = None) -> None:
    """Run a batch just started (queued for the worker; in-process in the embedded default). A database that stays
    locked there (SQLite with many writers) interrupts the run, not the request: the batch is started and resumes
    from its last committed step (the embedded jobs or the hourly beat)."""
    try:
        payout_batch_run_task.delay(batch_id, network_id)
    except (DatabaseError, Retry):  # in-process, the task's retry is raised as Retry
        logger.warning("Payout batch %s interrupted; it resumes automatically.", batch_id, exc_info=True)


def _local_today(network: Network):
    return timezone.localtime(timezone=zoneinfo.ZoneInfo(network.timezone or "UTC")).date()


@task(**RETRY_DATABASE, **BATCH)
def payouts_scheduled_task() -> list[int]:
    """Hourly: start each network's batch when its schedule is due (once per period, in the network's time zone)
    and resume batches left running by a crash."""
    started = []
    for network in Network.objects.exclude(payout_settings={}).order_by("pk"):
        period = payout_policy(network).period_due(_local_today(network))
        if period is None or PayoutBatch.objects.for_network(network).filter(period_key=period).exists():
            continue
        try:
            batch = payout_batch_start(network=network, trigger=PayoutBatch.Trigger.SCHEDULE, period_key=period)
        except BatchRunning:
            continue  # a manual batch is running: the period stays due, the next hour starts it
        started.append(batch.pk)
        _run_logged(batch.pk, network.pk)
    payout_batches_resume_stale(older_than=STALE_AFTER, exclude=started)
    return started


def payout_batches_resume_stale(*, older_than: timedelta, exclude: list[int] = ()) -> int:
    """Resume the batches left running (gathering or paying) with no progress for `older_than`."""
    stale = PayoutBatch.objects.filter(status__in=PayoutBatch.RUNNING, updated_at__lt=timezone.now() - older_than)
    ids = list(stale.exclude(pk__in=exclude).values_list("pk", "network_id"))
    for batch_id, network_id in ids:
        _run_logged(batch_id, network_id)
    return len(ids)


# The embedded default runs a batch in the request that starts it: one still running without progress for this
# long was interrupted (a database that stayed locked, a stopped server) and the embedded jobs resume it.
EMBEDDED_STALE_AFTER = timedelta(minutes=1)


def payout_batches_resume_embedded() -> int:
    """The resumption as the embedded default's web process runs it (`core.embedded`, registered in apps.py)."""
    return payout_batches_resume_stale(older_than=EMBEDDED_STALE_AFTER)


def _run_logged(batch_id: int, network_id: int) -> None:
    # Each batch runs in its own task (its own time limit); in-process in the embedded default, where one
    # network's trouble must not stop the others' payouts. The batch stays resumable either way.
    try:
        payout_batch_run_task.delay(batch_id, network_id)
    except Exception:
        logger.exception("Payout batch %s stopped; it resumes on the next scheduled run.", batch_id)


def _payout_network(payout_id: int) -> int | None:
    """The network of a payout whose e-mail was queued before tasks carried it (read by id, across networks)."""
    return Payout.objects.filter(pk=payout_id).values_list("network_id", flat=True).first()


@task(**RETRY_MAIL, **BATCH)
def payout_email_task(payout_id: int, event: str, network_id: int | None = None) -> int:
    """`network_id` routes the read to the payout's network; a message queued without it reads by id alone."""
    if network_id is None:
        network_id = _payout_network(payout_id)
    payout = Payout.objects.select_related("affiliate").filter(network_id=network_id, pk=payout_id).first()
    if payout is None:
        return 0
    return payout_email_send(payout, event)


@receiver(payout_email_due, dispatch_uid="payouts.tasks.payout_email")
def payout_email_queue(sender, payout_id: int, event: str, network_id: int | None = None, **kwargs) -> None:
    """The affiliate's e-mail of a committed payout transition (`transitions.payout_notify`)."""
    payout_email_task.delay(payout_id, event, network_id)
