"""Retrying a short unit of work that the database refused for a lock ("database is locked" from SQLite with
many writers, a deadlock or serialization failure from PostgreSQL), telling such errors apart, and answering
them with a 503 outside the API (whose exception handler, core.api, does the same)."""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

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


BUSY = "The database is busy; try again in a moment."


class DatabaseBusyMiddleware:
    """A lock that outlasted the database's wait in a plain Django view (a web page, the postback's entry) answers
    503 with Retry-After, not 500: the view's transaction was rolled back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_lock_error(exception):
            return None
        logger.warning("Locked database answered 503: %s %s (%s)", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": BUSY}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", request=request), status=503)
        response["Retry-After"] = "1"
        return response
