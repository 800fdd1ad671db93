"""Fraud signals on conversions; the program's fraud policy turns them into a status.

Signals: too_fast (conversion soon after its click), self_referral (customer e-mail or IP hash equals the
affiliate's), duplicate_order (same amount for the same customer or click within a day under another
order id), bot_click and duplicate_click (the click was marked so by the ingester).
"""

import hashlib
import hmac
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from network.models import Advertiser, Affiliate, Network
from programs.models import Program

from . import clicks
from .attribution import Attribution
from .models import Conversion

DUPLICATE_ORDER_WINDOW = timedelta(hours=24)


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 with the IP hash key (the same keyed hash the click redirect stores for visitor IPs)."""
    return hmac.new(settings.IP_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def email_hash(email: str) -> str:
    return keyed_hash("email:" + email.strip().lower()) if email else ""


def ip_hash(ip: str) -> str:
    """The same keyed hash the redirect stores on clicks (of the packed address), so the two compare."""
    return clicks.ip_hash(ip.strip()) if ip else ""


def click_signals(*, clicked_at: datetime, is_bot: bool, is_unique: bool, now: datetime) -> list[str]:
    """The signals a conversion inherits from its click."""
    signals = []
    if (now - clicked_at).total_seconds() < settings.CONVERSION_MIN_SECONDS_AFTER_CLICK:
        signals.append("too_fast")
    if is_bot:
        signals.append("bot_click")
    if not is_unique:
        signals.append("duplicate_click")
    return signals


def conversion_signals(
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
) -> list[str]:
    click = attribution.click
    signals = [] if click is None else click_signals(
        clicked_at=click.created_at, is_bot=click.is_bot, is_unique=click.is_unique, now=now)
    if attribution.affiliate_id is not None:
        self_referral = False
        if customer_email_hash:
            affiliate_email = Affiliate.objects.filter(pk=attribution.affiliate_id).values_list("email", flat=True)
            self_referral = customer_email_hash == email_hash(affiliate_email.first() or "")
        if customer_ip_hash and click is not None and click.ip_hash == customer_ip_hash:
            self_referral = True
        if self_referral:
            signals.append("self_referral")
    same_buyer = Q()
    for name, value in (("customer_id", customer_id), ("customer_email_hash", customer_email_hash),
                        ("click_id", click_id)):
        if value:
            same_buyer |= Q(**{name: value})
    if same_buyer and Conversion.objects.for_network(network).filter(
        same_buyer, advertiser=advertiser, amount=amount, currency=currency,
        created_at__gte=now - DUPLICATE_ORDER_WINDOW, created_at__lte=now,
    ).exclude(pk=exclude_id).exists():
        signals.append("duplicate_order")
    return signals


def status_for(*, program: Program | None, signals: list[str]) -> str:
    return status_for_policy(policy=program.fraud_policy if program is not None else None, signals=signals)


def status_for_policy(*, policy: str | None, signals: list[str]) -> str:
    if not signals or policy is None:
        return Conversion.Status.ACCEPTED
    return {
        Program.FraudPolicy.RECORD: Conversion.Status.ACCEPTED,
        Program.FraudPolicy.HOLD: Conversion.Status.HELD,
        Program.FraudPolicy.REJECT: Conversion.Status.REJECTED,
    }[policy]
