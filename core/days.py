"""A network's local calendar days as UTC-comparable instants: the one place "a day in the network's time zone"
is turned into a [start, end) window (reports, dashboards, date filters). In core so every app may use it."""

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone


def zone(tz: str | tzinfo) -> tzinfo:
    """A tzinfo from a zone name (`Network.timezone`) or a tzinfo."""
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_today(tz: str | tzinfo, *, now: datetime | None = None) -> date:
    """The calendar date it is now (or at `now`) in the zone."""
    return (now or timezone.now()).astimezone(zone(tz)).date()


def local_day_bounds(first: date, last: date | None = None, *, tz: str | tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local days `first`..`last` inclusive (`first` alone when `last` is None), as aware
    datetimes: local midnights, so a day lasts 23 or 25 hours across a DST change and starts at :30 in a
    half-hour zone. Compare them with stored (UTC) times directly: `created_at__gte=start, created_at__lt=end`."""
    tz = zone(tz)
    last = first if last is None else last
    # combine() and not aware arithmetic: "the next day" is the next local midnight, whatever the offset does.
    return (datetime.combine(first, time.min, tzinfo=tz),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz))


def last_local_days(days: int, *, tz: str | tzinfo, today: date | None = None) -> list[date]:
    """The last `days` local dates, oldest first, ending today (or `today`)."""
    today = today or local_today(tz)
    return [today - timedelta(days=days - 1 - n) for n in range(days)]
