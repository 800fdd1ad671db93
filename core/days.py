"""A network's local calendar days as UTC-comparable instants: the one place "a day in the network's time zone"
is turned into a [start, end) window (reports, dashboards, date filters). In core so every app may use it."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone


def zone(tz: str | tzinfo) -> tzinfo:
    """A tzinfo from a zone name (`Network.timezone`) or a tzinfo."""
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_today(tz: str | tzinfo, *, now: datetime | None = None) -> date:
    """The calendar date it is now (or at `now`) in the zone."""
    return (now or timezone.now()).astimezone(zone(tz)).date()


def local_day_bounds(first: date, last: date | None = None, *, tz: str | tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local days `first`..`last` inclusive (`first` alone when `last` is None), as UTC
    datetimes: the local midnights, so a day lasts 23 or 25 hours across a DST change and starts at :30 UTC in a
    half-hour zone. Compare them with stored times directly: `created_at__gte=start, created_at__lt=end`."""
    tz = zone(tz)
    last = first if last is None else last
    return _midnight(first, tz), _midnight(last + timedelta(days=1), tz)


def _midnight(day: date, tz: tzinfo) -> datetime:
    # combine() and not aware arithmetic: "the next day" is the next local midnight, whatever the offset does. In
    # UTC, because a local time in a DST gap or fold never compares equal across zones: where midnight is skipped
    # (fold 0 takes the offset before the change) the day starts at the first instant after it; where it happens
    # twice, at the first one.
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)

