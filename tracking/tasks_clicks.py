"""Click ingestion, partition and retention tasks (beat entries in tracking.apps)."""

from celery import shared_task

from tracking import click_queue, partitions


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, acks_late=True)
def clicks_ingest(max_seconds: float = 4.0) -> int:
    """One drain of the click queue (at most `max_seconds`); the `ingest_clicks` command is the
    long-running way, this task is the fallback beat keeps running. Returns the clicks inserted."""
    return click_queue.drain(max_seconds=max_seconds).inserted


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, acks_late=True)
def click_partitions_ensure(days: int = 7) -> int:
    return partitions.ensure_ahead(days)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, acks_late=True)
def clicks_retention_purge() -> int:
    return partitions.purge_expired()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, acks_late=True)
def member_addresses_retention_purge() -> int:
    """Affiliates' members' sign-in and API addresses (self-referral) are kept as long as raw clicks."""
    from tracking.member_addresses import member_addresses_purge

    return member_addresses_purge()
