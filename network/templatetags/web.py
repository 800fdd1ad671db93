"""Template helpers for the web pages: money with its currency, status badges, query strings."""

from decimal import Decimal

from django import template

from core.money import format_amount, is_currency, parse_amount

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """`{{ amount|money:currency }}` -> "€1,234.50"; an empty string for no amount."""
    if amount is None or amount == "":
        return ""
    if not is_currency(currency):
        return str(amount)
    try:
        value = amount if isinstance(amount, Decimal) else parse_amount(amount)
    except ValueError:
        return str(amount)
    return format_amount(value, currency)


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
