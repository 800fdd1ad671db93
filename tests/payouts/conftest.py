"""Payout fixtures: the Stripe API behind the real SDK, recorded notifications, approved balances."""

from decimal import Decimal

import pytest
import responses
import stripe

from commissions.models import Commission
from commissions.services import commission_approve
from payouts.models import MethodKind, PayoutMethod
from programs.models import TrackingLink
from tests.commissions.helpers import convert, program_with_link

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


def earn(tenant, amount: str, *, affiliate=None, currency: str | None = None, approve: bool = True) -> Commission:
    """An approved commission of exactly `amount` for `affiliate` (a fixed rule on a program per currency)."""
    affiliate = affiliate or tenant.affiliate
    currency = currency or tenant.network.default_currency
    link = TrackingLink.objects.filter(affiliate=affiliate, program__currency=currency).first()
    if link is None:
        _, link = program_with_link(tenant, affiliate=affiliate, currency=currency, name=f"P {currency}",
                                    rules=[{"event": "sale", "kind": "fixed", "payout": Decimal(amount)}])
    link.program.rules.update(payout=Decimal(amount))
    order = f"o-{affiliate.pk}-{currency}-{Commission.objects.count() + 1}"
    _, [commission] = convert(tenant, link, order, "100", currency=currency)
    if approve:
        commission_approve(network=tenant.network, commission=commission, operator=True)
        commission.refresh_from_db()
    return commission


def method(affiliate, kind=MethodKind.STRIPE_CONNECT, **fields) -> PayoutMethod:
    defaults = {
        MethodKind.STRIPE_CONNECT: {"stripe_account_id": f"acct_aff{affiliate.pk}", "stripe_onboarded": True},
        MethodKind.PAYPAL: {"paypal_email": affiliate.email},
        MethodKind.BANK: {"bank_holder": affiliate.name, "bank_account": "DE89370400440532013000",
                          "bank_bic": "COBADEFFXXX", "bank_country": "DE"},
    }[kind]
    PayoutMethod.objects.filter(affiliate=affiliate, is_default=True).update(is_default=False)
    return PayoutMethod.objects.create(network_id=affiliate.network_id, affiliate=affiliate, kind=kind,
                                       is_default=True, **(defaults | fields))
