"""Retrying a short unit of work that the database refused for a lock ("database is locked" from SQLite with
many writers, a deadlock or serialization failure from PostgreSQL), and telling such errors apart."""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)
T = TypeVar("T")
LOCK_WORDS = ("database is locked", "database table is locked", "deadlock detected", "could not serialize")


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and any(word in str(exc).lower() for word in LOCK_WORDS)


def retry_locked(func: Callable[[], T], *, attempts: int = 4, delay: float = 0.05) -> T:
    """`func()`, called again (after a short, growing, jittered pause) while it fails for a lock. `func` must be
    one whole transaction: inside a caller's transaction nothing is retried (the transaction is broken)."""
    for attempt in range(1, attempts + 1):
        try:
            return func()
        except OperationalError as exc:
            if attempt == attempts or not is_lock_error(exc) or connection.in_atomic_block:
                raise
            logger.warning("Locked database (%s); attempt %s of %s.", exc, attempt + 1, attempts)
            time.sleep(delay * 2 ** (attempt - 1) * (0.5 + random.random()))  # noqa: S311 (jitter, not secrets)
    raise AssertionError("unreachable")
