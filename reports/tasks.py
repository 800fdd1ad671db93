"""Reports' background work: folding the day tables' changes, rebuilding a network's day tables after its time
zone changed."""

from commissions.models import CommissionDay
from core.tasks import LONG, QUICK, RETRY_DATABASE, task
from network import daily
from network.models import DayRebuild
from tracking.models import ConversionDay

from .rebuild import days_rebuild


@task(**LONG, **RETRY_DATABASE)
def rebuild_days(network_id: int, rebuild_id: int) -> int:
    """Run a queued DayRebuild (idempotent: a rebuild rewrites whole days from their sources)."""
    rebuild = DayRebuild.objects.filter(network_id=network_id, pk=rebuild_id).first()
    if rebuild is None or rebuild.status == DayRebuild.Status.DONE:
        return 0
    return days_rebuild(rebuild.network_id, rebuild=rebuild)


def queue_rebuild(sender=None, *, network_id: int, rebuild_id: int, **kwargs) -> None:
    rebuild_days.delay(network_id, rebuild_id)


@task(**QUICK, **RETRY_DATABASE)
def day_changes_fold() -> int:
    """Move the conversions' and commissions' day differences into their tables (network.daily.fold); readers
    add the ones not folded yet, so this only keeps what they read small. Returns the change rows folded."""
    return daily.fold_all(ConversionDay) + daily.fold_all(CommissionDay)
