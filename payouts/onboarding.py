"""Stripe Connect onboarding beside the webhook: the affiliate's country for a new Express account, and the
account's state read from Stripe when the affiliate comes back from (or must restart) the onboarding."""

import re

from babel import Locale
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Affiliate, Network

from .models import MethodKind, PayoutMethod, TaxDetails
from .providers import stripe_connect

# CLDR's two-letter codes that are not countries (European Union, Eurozone, United Nations, ...).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ"}
_TERRITORIES = {code: name for code, name in Locale("en").territories.items()
                if re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_COUNTRIES}


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes and their English names, by name."""
    return sorted(_TERRITORIES.items(), key=lambda item: item[1])


def stripe_account_country(*, network: Network, affiliate: Affiliate, country: str = "") -> str:
    """The country of the affiliate's new Express account: the one given, else its tax details' country.
    Raises ValidationError (field `country`) when there is none or it is not an ISO 3166 code."""
    code = (country or "").strip().upper()
    if not code:
        details = TaxDetails.objects.for_network(network).filter(affiliate=affiliate).first()
        code = details.country.upper() if details is not None else ""
    if not code:
        raise ValidationError({"country": [_("Choose the country you live in (or your business is registered in): "
                                             "Stripe opens your account there.")]})
    if not re.fullmatch(r"[A-Z]{2}", code) or code not in _TERRITORIES:
        raise ValidationError({"country": [_("A two-letter ISO 3166 country code.")]})
    return code


def stripe_account_state(account) -> dict:
    account = account.to_dict() if hasattr(account, "to_dict") else dict(account)
    requirements = account.get("requirements") or {}
    return {
        "account": account.get("id", ""),
        "country": (account.get("country") or "").upper(),
        "details_submitted": bool(account.get("details_submitted")),
        "payouts_enabled": bool(account.get("payouts_enabled")),
        "transfers": ((account.get("capabilities") or {}).get("transfers") or ""),
        "currently_due": list(requirements.get("currently_due") or []),
        "disabled_reason": requirements.get("disabled_reason") or "",
    }


def payout_method_stripe_sync(*, network: Network, affiliate: Affiliate) -> dict | None:
    """Ask Stripe for the affiliate's Express account and record whether its onboarding is done (the same rule
    as the `account.updated` webhook). None when the affiliate has no Stripe account. Stripe errors propagate."""
    method = PayoutMethod.objects.for_network(network).filter(
        affiliate=affiliate, kind=MethodKind.STRIPE_CONNECT).exclude(stripe_account_id="").first()
    if method is None:
        return None
    state = stripe_account_state(stripe_connect.account_retrieve(method.stripe_account_id))
    onboarded = state["details_submitted"] and state["payouts_enabled"]
    PayoutMethod.objects.for_network(network).filter(pk=method.pk).update(
        stripe_onboarded=onboarded, stripe_account_state=stored_state(state))
    return state | {"onboarded": onboarded}


def stored_state(state: dict) -> dict:
    """The account's state as the payout method keeps it: with when it was learnt (UTC, ISO 8601)."""
    return {key: value for key, value in state.items() if key != "account"} | {"at": timezone.now().isoformat()}
