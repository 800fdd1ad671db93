"""Replaying the past: `as_of(moment)` sets the clock services read (django.utils.timezone.now) to that moment, so
what a demo records happens on its own day (hold periods, attribution windows, audit times)."""

from contextlib import contextmanager
from datetime import datetime
from unittest import mock


@contextmanager
def as_of(moment: datetime):
    """Services read the clock through django.utils.timezone.now: set it to the moment being replayed."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
