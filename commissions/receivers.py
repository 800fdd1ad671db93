"""Tracking's signals -> commissions: compute on commit (a task), reverse inside the refund's transaction.

Queuing one Celery task per conversion costs about a millisecond of the postback's CPU (message building and
the broker round trip), more than the rest of the fast postback. With a real broker, the ids are batched per
process (up to 500 or 250 ms) into one `commissions_compute_batch_task`: a batch's fixed cost (the task, a few
statements, the e-mail task) is then spread over many conversions. A process killed hard loses at most
that batch of kicks, not the conversions: `commissions_catch_up_task` (beat, every 5 minutes; in the embedded
default, the web process's embedded jobs, `core.embedded`) computes any attributed conversion left without
commissions.
"""

import atexit
import logging

from django.db import DatabaseError
from kombu.exceptions import OperationalError

from core.batching import Batcher
from core.dbretry import retry_locked

from .conversion_adjust import commissions_follow_adjustment
from .services import commissions_reverse_for_refund
from .tasks import commission_compute_task, commissions_compute_batch_task

logger = logging.getLogger(__name__)


class ComputeKicks(Batcher):
    MAX_BATCH = 500
    MAX_AGE = 0.25
    THREAD_NAME = "commission-kicks"

    def write(self, batch: list[tuple[int, int]]) -> None:
        """`batch`: (network id, conversion id) pairs."""
        try:
            commissions_compute_batch_task.delay([pk for _, pk in batch], [network_id for network_id, _ in batch])
        except OperationalError:  # broker down: the conversions are kept; the catch-up task computes them
            logger.exception("Could not queue the commission computation of conversions %s", batch)


kicks = ComputeKicks()
atexit.register(kicks.flush)


def on_conversion_recorded(sender, conversion_id: int, network_id: int | None = None, **kwargs) -> None:
    if commission_compute_task.app.conf.task_always_eager:
        compute_now(conversion_id, network_id)  # in-process (embedded default, tests): now, as before
        return
    kicks.put((network_id, conversion_id))


def on_conversions_recorded(sender, conversion_ids: list[int], network_id: int | None = None, **kwargs) -> None:
    """A batch of new conversions of one network (a CSV import's chunk): one computation for the batch, the
    postback's batch path."""
    if not conversion_ids:
        return
    networks = None if network_id is None else [network_id] * len(conversion_ids)
    if commissions_compute_batch_task.app.conf.task_always_eager:
        try:
            retry_locked(lambda: commissions_compute_batch_task.run(list(conversion_ids), networks))
        except DatabaseError:
            logger.exception("Commissions of %d conversions not computed now; the catch-up computes them.",
                             len(conversion_ids))
        return
    try:
        commissions_compute_batch_task.delay(list(conversion_ids), networks)
    except OperationalError:  # broker down: the conversions are kept; the catch-up task computes them
        logger.exception("Could not queue the commission computation of conversions %s", conversion_ids)


def compute_now(conversion_id: int, network_id: int | None = None) -> None:
    """The in-process computation, after the conversion's commit. A lock that outlasts the database's wait (SQLite
    with many writers) is retried a few times; a database error after that is logged, not raised: the conversion
    is committed and its request must not fail. The catch-up (beat, or the embedded jobs) computes it later."""
    try:
        retry_locked(lambda: commission_compute_task.run(conversion_id, network_id))
    except DatabaseError:
        logger.exception("Commissions of conversion %s not computed now; the catch-up computes them.", conversion_id)


def on_conversion_adjusted(sender, conversion, before, actor=None, **kwargs) -> None:
    # Inside the correction's transaction: a ValidationError here answers its 400 and rolls it back.
    commissions_follow_adjustment(conversion=conversion, before=before, actor=actor)


def on_conversion_refunded(sender, conversion, amount, actor=None, items=None, **kwargs) -> None:
    # Inside the refund's transaction: an exception here rolls the refund back.
    commissions_reverse_for_refund(conversion=conversion, amount=amount, actor=actor, items=items)
