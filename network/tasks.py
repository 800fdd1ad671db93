"""Periodic work of the network app (beat entries in config/beat.py)."""

from core.tasks import RETRY_DATABASE, SWEEP, task

from .domains import tracking_domains_recheck
from .idempotency import idempotency_keys_purge

# A purge deletes only what has expired, so running it again is harmless: any error is retried.
RETRY_ANY = {"autoretry_for": (Exception,), "max_retries": 3}


@task(**RETRY_ANY, **SWEEP)
def idempotency_keys_purge_task() -> int:
    """API POSTs' Idempotency-Keys are kept 24 hours; older ones are deleted. Returns rows deleted."""
    return idempotency_keys_purge()


# A rerun skips the domains checked in the last hours, so a retry never counts a failure twice.
@task(**RETRY_DATABASE, **SWEEP)
def tracking_domains_recheck_task() -> int:
    """Daily: every verified tracking domain's DNS checked again (network.domains). Returns domains checked."""
    return tracking_domains_recheck()
