"""The decisions of recording a conversion, as functions over plain values: the postback's fast path (raw SQL,
plain rows) and the full path (`services.conversion_record`, model rows) both call them; only their I/O differs.

Also theirs: `network.auth.api_key_refusal`/`key_use_due` (the key), `attribution.click_attributes` (the click),
`fraud.evidence`/`fraud.duplicate_order_sql` (the signals), `attribution.conversion_warnings` and
`serializers.conversion_recorded_representation` (the answer).
"""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_noop

from core.money import is_currency, minor_units, quantize
from core.words import message
from network.models import Role
from programs.models import SUB_FIELDS

from .fraud import codes, status_for_policy
from .serializers import ConversionCreateSerializer

# Who may record a conversion (an advertiser key with its advertiser profile).
RECORDING_ROLES = frozenset({Role.ADVERTISER})

# The request's shape is the serializer's: the fast path takes a body the serializer would take unchanged.
_SHAPE = ConversionCreateSerializer._declared_fields
ORDER_ID_MAX_LENGTH = _SHAPE["order_id"].max_length
COUPON_MAX_LENGTH = _SHAPE["coupon"].max_length
EVENTS = frozenset(_SHAPE["event"].choices)
DEFAULT_EVENT = _SHAPE["event"].default
AMOUNT_LIMIT = Decimal(10) ** 12


def amount_error(amount: Decimal, currency: str) -> str | None:
    """Why `amount` cannot be recorded (or refunded) in `currency`, or None."""
    # Made in the active language: a page speaks its person's language; the API runs in English (its contract).
    # A message keeps its msgid, so a row that stores the refusal (a Stripe event's error) is shown translated.
    if amount < 0:
        return message(gettext_noop("Must not be negative."))
    if amount != quantize(amount, currency):
        return message(gettext_noop("Has more decimal places than %(currency)s allows (%(places)s)."),
                       {"currency": currency, "places": minor_units(currency)})
    if abs(amount) >= AMOUNT_LIMIT:
        return message(gettext_noop("Too large."))
    return None


def money_errors(*, amount: Decimal, currency: str) -> dict | None:
    """The first problem with a conversion's amount and (upper-cased) currency as field errors, or None."""
    if not is_currency(currency):
        return {"currency": [message(gettext_noop("'%(currency)s' is not an ISO 4217 currency code."),
                                     {"currency": currency})]}
    error = amount_error(amount, currency)
    return None if error is None else {"amount": [error]}


def order_id_as_sent(order_id) -> bool:
    """An order id the serializer takes unchanged (a string, not blank, not padded, not too long)."""
    return (isinstance(order_id, str) and 0 < len(order_id) <= ORDER_ID_MAX_LENGTH
            and order_id == order_id.strip())


def order_repeats(*, recorded_amount: Decimal, recorded_currency: str, amount: Decimal, currency: str) -> bool:
    """An order id sent again is the same sale (answered with the first conversion) when its amount and currency
    are the recorded ones; otherwise it is a conflict (refused)."""
    return recorded_amount == amount and recorded_currency == currency


def program_currency_error(*, program_name: str, program_currency: str, currency: str) -> dict | None:
    """A conversion is in its program's currency (the attributed or the named program), or refused."""
    if program_currency == currency:
        return None
    return {"currency": [message(gettext_noop(
        "The program '%(program)s' is in %(program_currency)s; this conversion says %(currency)s."),
        {"program": program_name, "program_currency": program_currency, "currency": currency})]}


def conversion_fields(*, kind: str, details: list[dict], policy: str | None, pending: bool = False,
                      program_id: int | None = None, partnership_id: int | None = None,
                      affiliate_id: int | None = None, link_id: int | None = None, clicked_at: datetime | None = None,
                      subs: dict | None = None, country: str = "") -> dict:
    """The attribution and fraud columns of a conversion row (attribute names), from who gets the credit, the
    signals' evidence and the attributed program's fraud policy (None when nothing attributes)."""
    signals = codes(details)
    subs = subs or {}
    return {
        "attribution": kind, "attribution_pending": pending, "program_id": program_id,
        "partnership_id": partnership_id, "affiliate_id": affiliate_id, "link_id": link_id, "clicked_at": clicked_at,
        **{name: subs.get(name, "") for name in SUB_FIELDS}, "country": country,
        "fraud_signals": signals, "signal_details": details,
        "status": status_for_policy(policy=policy, signals=signals),
    }
