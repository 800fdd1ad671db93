"""Template helpers for the web pages: money with its currency, times the locale's way, status badges, query
strings."""

from decimal import Decimal

from babel.numbers import format_decimal
from django import template

from core.dates import format_when
from core.money import babel_locale, format_amount, is_currency, parse_amount
from core.words import reason_shown
from network.audit_words import audit_sentence, period_shown
from network.audit_words import audit_target as audit_target_words

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """`{{ amount|money:currency }}` -> "€1,234.50" (in English; "1 234,50 €" in Latvian: the active language's
    locale, Babel's rules); an empty string for no amount."""
    if amount is None or amount == "":
        return ""
    if not is_currency(currency):
        return str(amount)
    try:
        value = amount if isinstance(amount, Decimal) else parse_amount(amount)
    except ValueError:
        return str(amount)
    return format_amount(value, currency)


@register.filter
def count(value):
    """`{{ clicks|count }}` -> "3,843": a whole number with the locale's separators (like `money`'s); anything
    else (a percentage already written out, "—") as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=babel_locale())
    return value


@register.filter
def when(value, style: str = "datetime") -> str:
    """`{{ created_at|when }}` -> "Dec 3, 2026, 4:13 PM" / "3 gru 2026, 16:13": the locale's format (Babel), in the
    page's time zone (the network's; the footer names it). Styles: datetime, seconds, date, day, day_time,
    day_seconds (core.dates). An empty string for no value."""
    if not value:
        return ""
    return format_when(value, style)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed (pagination next to filters)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else ""


@register.filter
def period(key) -> str:
    """`{{ batch.period_key|period }}` -> "month 2026-11", not "monthly:2026-11"."""
    return period_shown(key)


@register.filter
def audit_target(label) -> str:
    """`{{ entry.target_type|audit_target }}`: "Commission", not "commissions.commission"."""
    return audit_target_words(str(label or ""))


@register.filter
def audit_details(data, currency: str = "") -> str:
    """`{{ entry.data|audit_details:current_network.default_currency }}`: the details as a sentence."""
    return audit_sentence(data, currency)


@register.filter
def reason(value) -> str:
    """A commission's stored reason in the reader's language where the platform wrote it (`core.words.reason_shown`);
    one a person typed, as it was typed."""
    return reason_shown(str(value or ""))
