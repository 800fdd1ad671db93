"""Payouts that never get stuck, in a real browser: a Stripe Connect payout the batch could not send (no Stripe
key) is on hold with its reason, and the operator switches it to the affiliate's bank method and marks it paid;
a partner connects Stripe in its own country and, back from Stripe, sees its account's state."""

import pytest

from payouts.models import MethodKind, Payout, PayoutBatch
from tests.payouts.helpers import earn, method

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


@pytest.fixture
def stripe_fake(settings, monkeypatch):
    """The payouts tests' Stripe fake behind the real SDK (the live server runs in this process)."""
    import responses
    import stripe

    from tests.payouts.stripe_fake import FakeStripe

    settings.STRIPE_SECRET_KEY = "sk_test_browser"
    monkeypatch.setattr(stripe, "default_http_client", stripe.RequestsClient())
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeStripe(rsps).install()


def test_operator_resolves_an_on_hold_stripe_payout(world, new_page, settings):
    settings.STRIPE_SECRET_KEY = ""
    a = world.a
    with_password(a.owner.user)
    earn(a, "42.50")
    method(a.affiliate, MethodKind.BANK)
    method(a.affiliate)  # Stripe Connect, the default

    operator = new_page()
    log_in(operator, "owner@alpha.test")
    operator.locator(".sidenav").get_by_role("link", name="Payout batches").click()
    operator.get_by_role("button", name="Run a payout batch now").click()
    operator.get_by_role("heading", name="Payout batch #").wait_for()
    assert "1 payout was not sent and is on hold" in operator.get_by_test_id("batch-on-hold").inner_text()
    row = operator.locator("tr", has_text=a.affiliate.name)
    assert "STRIPE_SECRET_KEY" in row.inner_text()
    row.get_by_role("button", name="Switch to manual method (PayPal/bank)").click()
    operator.locator("tr", has_text=a.affiliate.name).locator(".badge.status-processing").wait_for()
    payout = Payout.objects.get(affiliate=a.affiliate)
    assert payout.method_kind == "bank" and PayoutBatch.objects.get(network=a.network).status == "processing"
    operator.locator("tr", has_text=a.affiliate.name).get_by_role("button", name="Mark paid").click()
    operator.locator("tr", has_text=a.affiliate.name).locator(".badge.status-paid").wait_for()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID


def test_partner_connects_stripe_in_its_country_and_back_sees_the_account_state(world, new_page, stripe_fake):
    a = world.a
    user = a.affiliate.membership.user
    with_password(user)
    partner = new_page()
    log_in(partner, user.email)
    partner.locator(".sidenav").get_by_role("link", name="Payout settings").click()
    partner.get_by_label("Country you live in").select_option("DE")
    partner.route("https://connect.stripe.com/**", lambda route: route.fulfill(status=200, body="Stripe onboarding"))
    partner.get_by_role("button", name="Connect with Stripe").click()
    partner.wait_for_url("https://connect.stripe.com/setup/e/**")
    [create] = stripe_fake.posts("/v1/accounts")
    assert create.params["country"] == "DE" and create.params["tos_acceptance[service_agreement]"] == "recipient"
    [link] = stripe_fake.posts("/v1/account_links")
    partner.goto(link.params["return_url"])
    state = partner.get_by_test_id("stripe-account")
    assert "Your Stripe onboarding is not finished yet." in state.inner_text()
    assert "external_account" in state.inner_text()
    state.get_by_role("button", name="Continue on Stripe").wait_for()
