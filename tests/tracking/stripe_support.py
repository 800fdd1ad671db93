"""Stripe-shaped events (the field layout of Stripe's API reference objects) and signed deliveries to a billing
integration's webhook URL, as Stripe sends them."""

import hashlib
import hmac
import itertools
import json
import time

from rest_framework.test import APIClient

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_test{next(_ids):06d}"


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` as Stripe builds it: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<payload>">."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signed}"


def event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or _id("evt"), "object": "event", "api_version": "2024-06-20", "created": int(time.time()),
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }


def checkout_session(*, mode: str, amount_total: int, currency: str = "eur", customer: str | None = None,
                     client_reference_id: str | None = None, metadata: dict | None = None,
                     payment_intent: str | None = None, subscription: str | None = None,
                     invoice_id: str | None = None) -> dict:
    return {
        "id": _id("cs"), "object": "checkout.session", "amount_subtotal": amount_total, "amount_total": amount_total,
        "client_reference_id": client_reference_id, "currency": currency, "customer": customer,
        "customer_details": {"email": "buyer@example.com", "name": "Jane Buyer", "address": None, "phone": None,
                             "tax_exempt": "none", "tax_ids": []},
        "customer_email": None, "created": int(time.time()), "expires_at": int(time.time()) + 86400,
        "invoice": invoice_id, "livemode": False, "metadata": metadata or {}, "mode": mode,
        "payment_intent": payment_intent if mode == "payment" else None, "payment_status": "paid",
        "status": "complete", "subscription": subscription, "success_url": "https://shop.example.com/thanks",
        "url": None,
    }


def invoice(*, customer: str, amount_paid: int, currency: str = "eur", billing_reason: str = "subscription_create",
            subscription: str = "sub_test", payment_intent: str | None = None, charge: str | None = None) -> dict:
    now = int(time.time())
    return {
        "id": _id("in"), "object": "invoice", "account_country": "DE", "amount_due": amount_paid,
        "amount_paid": amount_paid, "amount_remaining": 0, "attempt_count": 1, "attempted": True,
        "billing_reason": billing_reason, "charge": charge, "collection_method": "charge_automatically",
        "created": now, "currency": currency, "customer": customer, "customer_email": "buyer@example.com",
        "customer_name": "Jane Buyer", "hosted_invoice_url": None, "lines": {"object": "list", "data": []},
        "livemode": False, "metadata": {}, "paid": True, "payment_intent": payment_intent,
        "period_end": now, "period_start": now, "status": "paid",
        "status_transitions": {"finalized_at": now, "paid_at": now, "marked_uncollectible_at": None,
                               "voided_at": None},
        "subscription": subscription, "subscription_details": {"metadata": {}}, "subtotal": amount_paid,
        "total": amount_paid,
    }


def charge(*, amount: int, amount_refunded: int, currency: str = "eur", customer: str | None = None,
           invoice_id: str | None = None, payment_intent: str | None = None, charge_id: str | None = None) -> dict:
    return {
        "id": charge_id or _id("ch"), "object": "charge", "amount": amount, "amount_captured": amount,
        "amount_refunded": amount_refunded, "captured": True, "created": int(time.time()), "currency": currency,
        "customer": customer, "invoice": invoice_id, "livemode": False, "metadata": {}, "paid": True,
        "payment_intent": payment_intent, "refunded": amount_refunded >= amount, "status": "succeeded",
        "refunds": {"object": "list", "data": [], "has_more": False},
    }


def subscription(*, customer: str, subscription_id: str = "sub_test") -> dict:
    return {"id": subscription_id, "object": "subscription", "customer": customer, "status": "canceled",
            "cancel_at_period_end": False, "canceled_at": int(time.time()), "ended_at": int(time.time()),
            "items": {"object": "list", "data": []}, "livemode": False, "metadata": {}}


def deliver(url: str, body: dict, secret: str, *, timestamp: int | None = None, signature: str | None = None):
    """POST the event to the webhook URL exactly as Stripe does (raw JSON body, signed header)."""
    payload = json.dumps(body, separators=(",", ":"))
    header = signature if signature is not None else signature_header(payload, secret, timestamp)
    return APIClient().post(url, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
