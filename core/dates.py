"""Dates and times on a page, the locale's way (Babel), in the current time zone (the network's, activated once per
request by network.middleware or a template's `{% timezone %}`): `Dec 3, 2026, 4:13 PM` in English,
`3 gru 2026, 16:13` in Polish, `2026. g. 3. dec. 16:13` in Latvian."""

from datetime import date, datetime

from babel import Locale
from babel.dates import format_skeleton, format_time
from django.utils import timezone

from .money import babel_locale

# style -> (the date's CLDR skeleton, the time's Babel format or None)
STYLES = {
    "datetime": ("yMMMd", "short"),
    "seconds": ("yMMMd", "medium"),
    "date": ("yMMMd", None),
    "day": ("MMMd", None),
    "day_time": ("MMMd", "short"),
    "day_seconds": ("MMMd", "medium"),
}


def format_when(value: datetime | date, style: str = "datetime", *, locale: str | None = None, tzinfo=None) -> str:
    """`value` in `style` (STYLES), in `tzinfo` (default: the current time zone) and `locale` (default: the active
    language's)."""
    date_skeleton, time_format = STYLES.get(style, STYLES["datetime"])
    locale = locale or babel_locale()
    if isinstance(value, datetime):
        zone = tzinfo or timezone.get_current_timezone()
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        value = value.astimezone(zone)
    day = format_skeleton(date_skeleton, value, locale=locale)
    if time_format is None or not isinstance(value, datetime):
        return day
    clock = format_time(value, time_format, locale=locale)
    return str(Locale.parse(locale).datetime_formats["medium"]).format(clock, day)
