"""Click ingestion, partition and retention tasks (beat entries in config/beat.py)."""

from core.tasks import BATCH, DRAIN, LONG, task
from tracking import click_queue, partitions
from tracking.member_addresses import member_addresses_purge

# Each run only writes what is not written yet (click ids are unique keys; partitions and purges check first),
# so any error is retried.
RETRY_ANY = {"autoretry_for": (Exception,), "max_retries": 3}


@task(**RETRY_ANY, **DRAIN)
def clicks_ingest(max_seconds: float = 4.0) -> int:
    """One drain of the click queue (at most `max_seconds`); the `ingest_clicks` command is the
    long-running way, this task is the fallback beat keeps running. Returns the clicks inserted."""
    return click_queue.drain(max_seconds=max_seconds).inserted


@task(**RETRY_ANY, **BATCH)
def click_partitions_ensure(days: int = 7) -> int:
    return partitions.ensure_ahead(days)


@task(**RETRY_ANY, **LONG)
def clicks_retention_purge() -> int:
    return partitions.purge_expired()


@task(**RETRY_ANY, **LONG)
def member_addresses_retention_purge() -> int:
    """Affiliates' members' sign-in and API addresses (self-referral) are kept as long as raw clicks."""
    return member_addresses_purge()
