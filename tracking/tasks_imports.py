"""The CSV import task: processes one import (by id), resumable after its last committed chunk."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from django.dispatch import receiver

from core.tasks import RETRY_DATABASE, SWEEP, task

from . import imports
from .signals import conversion_import_queued

log = logging.getLogger(__name__)


@task(**RETRY_DATABASE, **SWEEP)
def conversion_import_process(import_id: int, network_id: int | None = None) -> str:
    """Run an import to its end. A database error retries (with backoff) and resumes after the last committed
    chunk; any other error, or the time limit, fails the job with what it recorded so far kept. `network_id` routes
    the job's reads to its network; a message queued without it reads the job by id, as before."""
    if network_id is None:
        network_id = imports.conversion_import_network(import_id)
    try:
        job = imports.conversion_import_run(import_id=import_id, network_id=network_id)
    except DatabaseError:
        raise
    except SoftTimeLimitExceeded:
        imports.conversion_import_fail(import_id=import_id, network_id=network_id,
                                       detail="The import took longer than its time limit.")
        return "failed"
    except Exception as exc:
        log.exception("Conversion import %s failed", import_id)
        imports.conversion_import_fail(import_id=import_id, network_id=network_id,
                                       detail=f"The import stopped: {type(exc).__name__}.")
        return "failed"
    return "missing" if job is None else job.status


@receiver(conversion_import_queued, dispatch_uid="tracking.tasks_imports.conversion_import_process")
def conversion_import_queue(sender, import_id: int, network_id: int | None = None, **kwargs) -> None:
    conversion_import_process.delay(import_id, network_id)
