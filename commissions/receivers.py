"""Tracking's signals -> commissions: compute on commit (a task), reverse inside the refund's transaction."""

import logging

from kombu.exceptions import OperationalError

from .services import commissions_reverse_for_refund

logger = logging.getLogger(__name__)


def on_conversion_recorded(sender, conversion_id: int, **kwargs) -> None:
    from .tasks import commission_compute_task

    try:
        commission_compute_task.delay(conversion_id)
    except OperationalError:  # broker down: the conversion is kept; `recompute_commissions` catches up
        logger.exception("Could not queue the commission computation of conversion %s", conversion_id)


def on_conversion_refunded(sender, conversion, amount, actor=None, **kwargs) -> None:
    # Inside the refund's transaction: an exception here rolls the refund back.
    commissions_reverse_for_refund(conversion=conversion, amount=amount, actor=actor)
