"""Payout fixtures: the Stripe API behind the real SDK, recorded notifications."""

import pytest
import responses
import stripe

from .stripe_fake import WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def stripe_api(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = "sk_test_payouts"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    monkeypatch.setattr(stripe, "default_http_client", stripe.RequestsClient())
    monkeypatch.setattr(stripe, "max_network_retries", 0)  # a 5xx answers at once (no back-off sleeps)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeStripe(rsps).install()


@pytest.fixture
def emitted(monkeypatch):
    """Every `event_emit` call of the payouts app, as keyword dicts."""
    calls = []
    monkeypatch.setattr("payouts.transitions.event_emit", lambda **kw: calls.append(kw))
    return calls
