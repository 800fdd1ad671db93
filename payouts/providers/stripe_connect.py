"""Stripe Connect through the official SDK: Express accounts and their onboarding links, transfers, webhooks.

Every call passes the secret key from settings (the API host, STRIPE_API_BASE, is the one module-level SDK
setting, set from settings before each call) and an idempotency key where Stripe supports
one, so a call retried after a crash can never create a second transfer.
"""

import hashlib
import json

import stripe
from django.conf import settings
from django.utils.translation import gettext_noop

from core.money import to_minor

# Definite answers: the transfer was refused and will not happen. Anything else (network error, 5xx, rate limit,
# bad key) leaves the outcome unknown: the payout stays pending and a later run asks Stripe what happened.
DEFINITE_ERRORS = (stripe.InvalidRequestError, stripe.CardError, stripe.PermissionError)
# The idempotency key was used before with other parameters: Stripe answers the same error for 24 h whatever we
# retry, so the payout fails (money back) and its next attempt uses a new key (`Payout.transfer_idempotency_key`).
KEY_REUSED_ERRORS = (stripe.IdempotencyError,)


# Msgids: the payout keeps them (core.words) and its pages show them in the reader's language; the API and
# webhooks keep the English text.
NOT_CONFIGURED_REASON = gettext_noop(
    "Not sent: Stripe is not configured on this platform (STRIPE_SECRET_KEY is not set). Mark it paid once paid by "
    "hand, switch it to the affiliate's PayPal or bank method, or mark it failed to return the money to the balance.")
# Translators: a payout failed on Stripe's event, e.g. "Stripe transfer.failed"; the event's name stays as it is.
EVENT_REASON = gettext_noop("Stripe %(event)s")
# Translators: Stripe refused the transfer; %(message)s is Stripe's own explanation, as Stripe wrote it.
REFUSED_REASON = gettext_noop("Stripe: %(message)s")
KEY_REUSED_REASON = gettext_noop(
    # Translators: idempotency_error is Stripe's name for the error; %(key)s is the key as Stripe knows it.
    "Stripe idempotency_error: the key %(key)s was used before with other parameters. Nothing was sent; the amount "
    "is back in the balance and the next attempt uses a new key.")


class StripeNotConfigured(Exception):
    pass


def is_configured() -> bool:
    return bool(getattr(settings, "STRIPE_SECRET_KEY", ""))


def _key() -> str:
    if not is_configured():
        raise StripeNotConfigured("STRIPE_SECRET_KEY is not set.")
    # The SDK's resource calls take the API host from module state only: set it from settings before each call.
    stripe.api_base = settings.STRIPE_API_BASE
    return settings.STRIPE_SECRET_KEY


def platform_country() -> str:
    return (getattr(settings, "STRIPE_PLATFORM_COUNTRY", "") or "US").upper()


def account_params(*, network_id: int, affiliate_id: int, email: str, country: str = "") -> dict:
    """The Express account's parameters: the affiliate's country, and for a country other than the platform's
    the recipient service agreement (cross-border accounts can only receive transfers)."""
    params = {
        "type": "express",
        "email": email,
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {"network_id": str(network_id), "affiliate_id": str(affiliate_id)},
    }
    country = (country or "").upper()
    if country:
        params["country"] = country
        if country != platform_country():
            params["tos_acceptance"] = {"service_agreement": "recipient"}
    return params


def account_idempotency_key(params: dict) -> str:
    """One key per set of parameters: Stripe replays a stored answer (an error too) under the same key for 24 h,
    so changed parameters (a corrected country or e-mail) must not reuse the key of the earlier call."""
    metadata = params.get("metadata", {})
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"account-{metadata.get('network_id')}-{metadata.get('affiliate_id')}-{digest}"


def account_create(*, network_id: int, affiliate_id: int, email: str, country: str = "") -> stripe.Account:
    params = account_params(network_id=network_id, affiliate_id=affiliate_id, email=email, country=country)
    return stripe.Account.create(api_key=_key(), idempotency_key=account_idempotency_key(params), **params)


def account_retrieve(account_id: str) -> stripe.Account:
    return stripe.Account.retrieve(account_id, api_key=_key())


def account_link_create(*, account_id: str, refresh_url: str, return_url: str) -> stripe.AccountLink:
    return stripe.AccountLink.create(api_key=_key(), account=account_id, refresh_url=refresh_url,
                                     return_url=return_url, type="account_onboarding")


def transfer_create(payout) -> stripe.Transfer:
    """Send a payout's net amount to its connected account; the payout id (and attempt) is the idempotency key."""
    return stripe.Transfer.create(
        api_key=_key(),
        idempotency_key=payout.transfer_idempotency_key,
        amount=to_minor(payout.net, payout.currency),
        currency=payout.currency.lower(),
        destination=payout.method_snapshot["stripe_account_id"],
        transfer_group=payout.reference,
        description=f"Payout {payout.pk} (batch {payout.batch_id})",
        metadata={"payout_id": str(payout.pk), "batch_id": str(payout.batch_id),
                  "network_id": str(payout.network_id), "affiliate_id": str(payout.affiliate_id)},
    )


def transfer_find(payout) -> stripe.Transfer | None:
    """The transfer an earlier, interrupted attempt may have made (its transfer_group is the payout reference)."""
    found = stripe.Transfer.list(api_key=_key(), transfer_group=payout.reference, limit=1)
    return found.data[0] if found.data else None


def event_construct(payload: bytes, signature: str) -> stripe.Event:
    """Verify the Stripe-Signature header; raises ValueError or stripe.SignatureVerificationError.

    STRIPE_WEBHOOK_SECRET may list several secrets separated by commas: the platform endpoint's and the Connect
    endpoint's (Stripe signs each endpoint's events with its own secret)."""
    secrets = [s.strip() for s in getattr(settings, "STRIPE_WEBHOOK_SECRET", "").split(",") if s.strip()]
    if not secrets:
        raise stripe.SignatureVerificationError("STRIPE_WEBHOOK_SECRET is not set.", signature)
    for secret in secrets[:-1]:
        try:
            return stripe.Webhook.construct_event(payload, signature, secret)
        except stripe.SignatureVerificationError:
            continue
    return stripe.Webhook.construct_event(payload, signature, secrets[-1])


# Caught after DEFINITE_ERRORS: every other Stripe error leaves a transfer's outcome unknown.
TRANSIENT_ERRORS = (stripe.StripeError,)
