"""Payout fixtures: the Stripe API behind the real SDK, recorded notifications."""

import pytest

from .stripe_fake import served


@pytest.fixture
def stripe_api(settings, monkeypatch):
    with served(settings, monkeypatch) as fake:
        yield fake


@pytest.fixture
def emitted(monkeypatch):
    """Every `event_emit` call of the payouts app, as keyword dicts."""
    calls = []
    monkeypatch.setattr("payouts.transitions.event_emit", lambda **kw: calls.append(kw))
    return calls
