"""Fraud signals on conversions; the program's fraud policy turns them into a status.

Signals: too_fast (conversion soon after its click), self_referral (the buyer's e-mail is the affiliate's, or
the buyer's address one the affiliate's members signed in or called the API from), duplicate_order (same amount
for the same customer or click within a day under another order id), bot_click, duplicate_click and velocity
(the click was marked so by the ingester) and off_target (the click was outside the program's targeting: always
rejected, whatever the policy). Each comes with its evidence (`signal_details` on the conversion).
"""

import hashlib
import hmac
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection

from network.models import Advertiser, Affiliate, Network
from programs.models import Program

from . import clicks
from .attribution import Attribution
from .models import Conversion, MemberAddress

DUPLICATE_ORDER_WINDOW = timedelta(hours=24)
# A click outside its program's targeting: its conversions earn nothing whatever the fraud policy says.
OFF_TARGET = "off_target"


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 with the IP hash key (the same keyed hash the click redirect stores for visitor IPs)."""
    return hmac.new(settings.IP_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def email_hash(email: str) -> str:
    return keyed_hash("email:" + email.strip().lower()) if email else ""


def ip_hash(ip: str) -> str:
    """The same keyed hash the redirect stores on clicks (of the packed address), so the two compare."""
    return clicks.ip_hash(ip.strip()) if ip else ""


def click_evidence(*, clicked_at: datetime, is_bot: bool, is_unique: bool, now: datetime, velocity_count: int = 0,
                   velocity_limit: int = 0, velocity_window_minutes: int = 0, off_target: str = "", country: str = "",
                   device: str = "") -> list[dict]:
    """The signals a conversion inherits from its click, each with its evidence (the rule's values)."""
    details = []
    if off_target:
        details.append({"code": OFF_TARGET, "reason": off_target, "country": country, "device": device})
    seconds = (now - clicked_at).total_seconds()
    if seconds < settings.CONVERSION_MIN_SECONDS_AFTER_CLICK:
        details.append({"code": "too_fast", "seconds": max(0, int(seconds)),
                        "limit": settings.CONVERSION_MIN_SECONDS_AFTER_CLICK})
    if is_bot:
        details.append({"code": "bot_click"})
    if not is_unique:
        details.append({"code": "duplicate_click", "window_seconds": settings.CLICK_DUPLICATE_WINDOW_SECONDS})
    if velocity_count:
        details.append({"code": "velocity", "clicks": velocity_count, "limit": velocity_limit,
                        "window_minutes": velocity_window_minutes})
    return details


def codes(details: list[dict]) -> list[str]:
    return [detail["code"] for detail in details]


def duplicate_order_evidence() -> dict:
    return {"code": "duplicate_order", "window_hours": int(DUPLICATE_ORDER_WINDOW.total_seconds() // 3600)}


def self_referral_evidence(*, network: Network | int, affiliate_id: int, customer_email_hash: str = "",
                           customer_ip_hash: str = "") -> dict | None:
    """The buyer is the affiliate: the buyer's e-mail is the affiliate's (or its member's login), or the buyer's
    address is one the affiliate's members signed in or called the API from. Never the click's own visitor:
    a buyer who clicked and bought from one address is the ordinary case."""
    if customer_email_hash:
        row = (Affiliate.objects.for_network(network).filter(pk=affiliate_id)
               .values_list("email", "membership_id", "membership__user__email").first())
        if row is not None:
            affiliate_email, membership_id, member_email = row
            if customer_email_hash == email_hash(affiliate_email):
                return {"code": "self_referral", "match": "affiliate_email", "affiliate": affiliate_id}
            if member_email and customer_email_hash == email_hash(member_email):
                return {"code": "self_referral", "match": "member_email", "affiliate": affiliate_id,
                        "membership": membership_id}
    if customer_ip_hash:
        seen = (MemberAddress.objects.for_network(network)
                .filter(affiliate_id=affiliate_id, address_hash=customer_ip_hash).order_by("-last_seen_at")
                .values_list("membership_id", "source", "last_seen_at").first())
        if seen is not None:
            membership_id, source, last_seen_at = seen
            return {"code": "self_referral", "match": "member_address", "affiliate": affiliate_id,
                    "membership": membership_id, "source": source, "seen_at": last_seen_at.isoformat()}
    return None


def conversion_evidence(
    *,
    network: Network,
    advertiser: Advertiser,
    attribution: Attribution,
    amount: Decimal,
    currency: str,
    now: datetime,
    customer_id: str = "",
    customer_email_hash: str = "",
    customer_ip_hash: str = "",
    click_id: str = "",
    exclude_id: int | None = None,
) -> list[dict]:
    """Every signal of a conversion with its evidence (`codes()` gives the signal list)."""
    click, program = attribution.click, attribution.program
    self_referral = None
    if attribution.affiliate_id is not None:
        self_referral = self_referral_evidence(network=network, affiliate_id=attribution.affiliate_id,
                                               customer_email_hash=customer_email_hash,
                                               customer_ip_hash=customer_ip_hash)
    buyer = duplicate_order_buyer(customer_id=customer_id, customer_email_hash=customer_email_hash, click_id=click_id)
    duplicate = bool(buyer) and duplicate_order_found(
        network_id=network.pk, advertiser_id=advertiser.pk, buyer=buyer, amount=amount, currency=currency, now=now,
        exclude_id=exclude_id)
    return evidence(now=now, click=click_facts(click, program), self_referral=self_referral,
                    duplicate_order=duplicate)


def click_facts(click, program: Program | None) -> dict | None:
    """What a conversion's signals take from its click (a Click row) and the attributed program (`evidence`)."""
    return None if click is None else {
        "clicked_at": click.created_at, "is_bot": click.is_bot, "is_unique": click.is_unique,
        "velocity_count": click.velocity_count,
        "velocity_limit": program.velocity_max_clicks if program is not None else 0,
        "velocity_window_minutes": program.velocity_window_minutes if program is not None else 0,
        "off_target": click.off_target, "country": click.country, "device": click.device}


def evidence(*, now: datetime, click: dict | None = None, self_referral: dict | None = None,
             duplicate_order: bool = False) -> list[dict]:
    """A conversion's signals with their evidence, in one order, from plain facts: its click's (the keyword
    arguments of `click_evidence`), the self-referral match, and whether the order repeats. Both postback paths
    end here."""
    details = [] if click is None else click_evidence(now=now, **click)
    if self_referral is not None:
        details.append(self_referral)
    if duplicate_order:
        details.append(duplicate_order_evidence())
    return details


# --- duplicate order -----------------------------------------------------------------------------
# One predicate for both postback paths: the full path runs it alone (`duplicate_order_found`), the fast path
# inside its click query. Another order of the same advertiser, with the same amount and currency, from the same
# buyer (any of these values equal), created within DUPLICATE_ORDER_WINDOW before the conversion.
DUPLICATE_ORDER_BUYER = ("customer_id", "customer_email_hash", "click_id")
# Columns with an index of their own: when every buyer column has one, the other conditions are kept out of index
# selection (`x + 0`, `COALESCE(x, x)`): the buyer is always the selective one (a conversion or two), whatever the
# statistics say (a table that grew since its last ANALYZE may look empty).
_INDEXED_BUYER = frozenset({"customer_id", "click_id"})


def duplicate_order_buyer(*, customer_id: str = "", customer_email_hash: str = "", click_id: str = "") -> dict:
    """The buyer's values that identify a repeated order (the empty ones say nothing)."""
    values = {"customer_id": customer_id, "customer_email_hash": customer_email_hash, "click_id": click_id}
    return {name: values[name] for name in DUPLICATE_ORDER_BUYER if values[name]}


def duplicate_order_sql(buyer: tuple[str, ...], *, exclude: bool = False) -> str:
    """`EXISTS (...)` over conversions, its parameters in the order of `duplicate_order_params`."""
    unknown = set(buyer) - set(DUPLICATE_ORDER_BUYER)
    if not buyer or unknown:
        raise ValueError(f"buyer columns: {buyer!r}")
    hinted = set(buyer) <= _INDEXED_BUYER
    plain, created = ("v.{} + 0", "COALESCE(v.created_at, v.created_at)") if hinted else ("v.{}", "v.created_at")
    same_buyer = " OR ".join(f"v.{name} = %s" for name in buyer)
    return (
        f"EXISTS (SELECT 1 FROM tracking_conversion v WHERE v.network_id = %s"  # noqa: S608 (Citus: a shard)
        f" AND {plain.format('advertiser_id')} = %s AND ({same_buyer}) AND v.amount = %s AND v.currency = %s"
        f" AND {created} >= %s AND {created} <= %s{' AND v.id <> %s' if exclude else ''})"
    )


def duplicate_order_params(*, network_id: int, advertiser_id: int, buyer: dict, amount: Decimal, currency: str,
                           now: datetime, exclude_id: int | None = None) -> list:
    """The parameters of `duplicate_order_sql(tuple(buyer), exclude=exclude_id is not None)`, adapted for the
    database."""
    ops = connection.ops
    params = [network_id, advertiser_id, *buyer.values(), ops.adapt_decimalfield_value(amount, 18, 6), currency,
              ops.adapt_datetimefield_value(now - DUPLICATE_ORDER_WINDOW), ops.adapt_datetimefield_value(now)]
    return params if exclude_id is None else [*params, exclude_id]


def duplicate_order_found(*, network_id: int, advertiser_id: int, buyer: dict, amount: Decimal, currency: str,
                          now: datetime, exclude_id: int | None = None) -> bool:
    sql = duplicate_order_sql(tuple(buyer), exclude=exclude_id is not None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", duplicate_order_params(  # noqa: S608 (names from DUPLICATE_ORDER_BUYER)
            network_id=network_id, advertiser_id=advertiser_id, buyer=buyer, amount=amount, currency=currency,
            now=now, exclude_id=exclude_id))
        return bool(cursor.fetchone()[0])


def status_for_policy(*, policy: str | None, signals: list[str]) -> str:
    if OFF_TARGET in signals:
        return Conversion.Status.REJECTED
    if not signals or policy is None:
        return Conversion.Status.ACCEPTED
    return {
        Program.FraudPolicy.RECORD: Conversion.Status.ACCEPTED,
        Program.FraudPolicy.HOLD: Conversion.Status.HELD,
        Program.FraudPolicy.REJECT: Conversion.Status.REJECTED,
    }[policy]
