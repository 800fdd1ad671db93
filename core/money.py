"""Currencies and amounts: ISO 4217 codes, minor units, quantizing and formatting.

Amounts are `Decimal` everywhere; they are quantized to the currency's minor units at the
boundaries (API output, payouts), never stored as floats.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

import pycountry
from babel import Locale
from babel.numbers import get_currency_precision
from django.utils import translation

# Stored amounts keep more places than any currency so proportional splits stay exact.
AMOUNT_MAX_DIGITS = 18
AMOUNT_DECIMAL_PLACES = 6
AMOUNT_INTEGER_DIGITS = AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 code (upper case, three letters)."""
    return isinstance(code, str) and len(code) == 3 and code.isupper() and (
        pycountry.currencies.get(alpha_3=code) is not None
    )


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency)


@lru_cache(maxsize=512)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor units."""
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Amount in minor units (cents) as an integer, as payment providers want it."""
    return int(quantize(amount, currency).scaleb(minor_units(currency)))


def babel_locale(language: str | None = None) -> str:
    """Babel's locale for a language code ("pl" -> "pl"); None: the active language (English: en_US)."""
    code = language or translation.get_language() or "en"
    return "en_US" if code.split("-")[0] == "en" else translation.to_locale(code)


def format_amount(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """`€1,458.00` in English, `1 458,00 €` in Latvian or Polish: the active language's way unless `locale`.
    Babel's `format_currency`, with the parsed locale and its pattern kept per process and the last few thousand
    answers remembered (an e-mail batch formats the same amounts in the same locale over and over)."""
    return _formatted(quantize(amount, currency), currency, locale or babel_locale())


@lru_cache(maxsize=64)
def _currency_format(locale: str):
    parsed = Locale.parse(locale)
    return parsed, parsed.currency_formats["standard"]


@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    # What babel.numbers.format_currency(amount, currency, locale=locale) does, without parsing the locale again.
    parsed, pattern = _currency_format(locale)
    return pattern.apply(amount, parsed, currency=currency, currency_digits=True)


class AmountTooLarge(ValueError):
    """More digits before the point than any amount column holds."""


def parse_amount(value) -> Decimal:
    """A Decimal from a string or int; raises ValueError for anything else (floats included)."""
    if isinstance(value, bool | float):
        raise ValueError(translation.gettext("Amounts must be strings or integers, not floats."))
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(translation.gettext("Not a decimal amount.")) from exc
    if not amount.is_finite():
        raise ValueError(translation.gettext("Not a decimal amount."))
    # Checked before any arithmetic: 1e30 or 29 digits would overflow the context's precision in quantize (a
    # 500), and no stored amount column holds more than AMOUNT_INTEGER_DIGITS digits before the point.
    if amount and amount.adjusted() >= AMOUNT_INTEGER_DIGITS:
        raise AmountTooLarge(translation.gettext("Too large: at most %(digits)s digits before the decimal point.")
                             % {"digits": AMOUNT_INTEGER_DIGITS})
    return amount
