"""Periodic work of the network app (beat entries in config/beat.py)."""

from core.tasks import SWEEP, task

from .idempotency import idempotency_keys_purge

# A purge deletes only what has expired, so running it again is harmless: any error is retried.
RETRY_ANY = {"autoretry_for": (Exception,), "max_retries": 3}


@task(**RETRY_ANY, **SWEEP)
def idempotency_keys_purge_task() -> int:
    """API POSTs' Idempotency-Keys are kept 24 hours; older ones are deleted. Returns rows deleted."""
    return idempotency_keys_purge()
