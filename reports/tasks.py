"""Reports' background work: rebuilding a network's day tables after its time zone changed."""

from core.tasks import LONG, RETRY_DATABASE, task
from network.models import DayRebuild

from .rebuild import days_rebuild


@task(**LONG, **RETRY_DATABASE)
def rebuild_days(rebuild_id: int) -> int:
    """Run a queued DayRebuild (idempotent: a rebuild rewrites whole days from their sources)."""
    rebuild = DayRebuild.objects.filter(pk=rebuild_id).first()
    if rebuild is None or rebuild.status == DayRebuild.Status.DONE:
        return 0
    return days_rebuild(rebuild.network_id, rebuild=rebuild)


def queue_rebuild(sender=None, *, network_id: int, rebuild_id: int, **kwargs) -> None:
    rebuild_days.delay(rebuild_id)
