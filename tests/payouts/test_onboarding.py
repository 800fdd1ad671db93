"""Stripe Connect onboarding: the affiliate's country and the recipient service agreement, an account key per set
of parameters, and the partner portal's payout settings reading the account's state back from Stripe."""

import pytest

from payouts.models import PayoutMethod, TaxDetails
from payouts.providers import stripe_connect
from tests.pages import web_client

from .helpers import method

pytestmark = pytest.mark.django_db
ONBOARD = "/api/v1/payout-methods/stripe-onboarding"


def _params(**kw):
    base = {"network_id": 1, "affiliate_id": 2, "email": "blog@alpha.test", "country": "DE"}
    return stripe_connect.account_params(**(base | kw))


def test_the_account_key_changes_with_the_parameters():
    key = stripe_connect.account_idempotency_key
    assert key(_params()) == key(_params())
    assert len({key(_params()), key(_params(country="FR")), key(_params(email="new@alpha.test")),
                key(_params(affiliate_id=3))}) == 4


def test_a_corrected_country_gets_a_new_account_key_instead_of_the_stored_error(world, stripe_api):
    stripe_api.refuse_country["CU"] = {"type": "invalid_request_error", "param": "country",
                                       "message": "Country CU is not supported."}
    client = world.a.client("affiliate")
    response = client.post(ONBOARD, {"country": "CU"}, format="json")
    assert response.status_code == 502 and "not supported" in response.json()["detail"]
    assert not PayoutMethod.objects.exists()
    response = client.post(ONBOARD, {"country": "FR"}, format="json")
    assert response.status_code == 200, response.content
    first, second = stripe_api.posts("/v1/accounts")
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert second.params["country"] == "FR"
    assert PayoutMethod.objects.get().stripe_account_id in stripe_api.accounts


@pytest.mark.parametrize(("platform", "country", "recipient"), [("US", "FR", True), ("US", "us", False),
                                                                ("FR", "FR", False), ("GB", "US", True)])
def test_onboarding_sends_the_country_and_the_recipient_agreement_abroad(world, stripe_api, settings, platform,
                                                                        country, recipient):
    settings.STRIPE_PLATFORM_COUNTRY = platform
    response = world.a.client("affiliate").post(ONBOARD, {"country": country}, format="json")
    assert response.status_code == 200, response.content
    [create] = stripe_api.posts("/v1/accounts")
    assert create.params["country"] == country.upper()
    assert create.params.get("tos_acceptance[service_agreement]") == ("recipient" if recipient else None)
    assert create.params["capabilities[transfers][requested]"] == "true"
    assert "capabilities[card_payments][requested]" not in create.params


def test_onboarding_takes_the_tax_details_country_and_refuses_without_one(world, stripe_api):
    client = world.a.client("affiliate")
    response = client.post(ONBOARD)
    assert response.status_code == 400 and "country" in response.json()
    assert client.post(ONBOARD, {"country": "ZZ"}, format="json").status_code == 400
    assert client.post(ONBOARD, {"country": "Germany"}, format="json").status_code == 400
    assert stripe_api.posts("/v1/accounts") == []
    TaxDetails.objects.create(network=world.a.network, affiliate=world.a.affiliate, country="LV")
    assert client.post(ONBOARD).status_code == 200
    [create] = stripe_api.posts("/v1/accounts")
    assert create.params["country"] == "LV" and create.params["tos_acceptance[service_agreement]"] == "recipient"


def test_the_partner_form_asks_the_country_and_sends_it(world, stripe_api):
    client = web_client(world.a.affiliate)
    TaxDetails.objects.create(network=world.a.network, affiliate=world.a.affiliate, country="DE")
    page = client.get("/partner/payouts/settings/").content.decode()
    assert 'name="country"' in page and '<option value="DE" selected>' in page
    response = client.post("/partner/payouts/settings/stripe", {"country": "PL"})
    assert response.status_code == 302 and response["Location"].startswith("https://connect.stripe.com/setup/e/")
    [create] = stripe_api.posts("/v1/accounts")
    assert create.params["country"] == "PL" and create.params["tos_acceptance[service_agreement]"] == "recipient"
    [link] = stripe_api.posts("/v1/account_links")
    assert link.params["return_url"] == "http://testserver/partner/payouts/settings/?stripe=return"
    assert link.params["refresh_url"] == "http://testserver/partner/payouts/settings/?stripe=refresh"


def test_the_partner_form_without_a_country_says_so(world, stripe_api):
    response = web_client(world.a.affiliate).post("/partner/payouts/settings/stripe", {"country": ""}, follow=True)
    assert response.status_code == 200 and b"Choose the country" in response.content
    assert stripe_api.posts("/v1/accounts") == [] and not PayoutMethod.objects.exists()


def test_back_from_stripe_the_page_reads_the_account_state(world, stripe_api):
    client = web_client(world.a.affiliate)
    assert client.post("/partner/payouts/settings/stripe", {"country": "DE"}).status_code == 302
    account_id = PayoutMethod.objects.get().stripe_account_id
    page = client.get("/partner/payouts/settings/?stripe=return").content.decode()
    assert [c.path for c in stripe_api.calls if c.method == "GET"] == [f"/v1/accounts/{account_id}"]
    assert "Your Stripe onboarding is not finished yet." in page and "external_account" in page
    assert "requirements.past_due" in page and "Continue on Stripe" in page
    assert PayoutMethod.objects.get().stripe_onboarded is False
    # Stripe enabled the account (no webhook came): the return page records it.
    stripe_api.accounts[account_id] |= {"details_submitted": True, "payouts_enabled": True,
                                        "requirements": {"currently_due": [], "disabled_reason": None}}
    page = client.get("/partner/payouts/settings/?stripe=return").content.decode()
    assert "Your Stripe account is ready" in page and "Continue on Stripe" not in page
    assert PayoutMethod.objects.get().stripe_onboarded is True


def test_an_expired_link_shows_the_state_and_a_way_on(world, stripe_api):
    client = web_client(world.a.affiliate)
    client.post("/partner/payouts/settings/stripe", {"country": "DE"})
    page = client.get("/partner/payouts/settings/?stripe=refresh").content.decode()
    assert "expired" in page and "Continue on Stripe" in page
    response = client.post("/partner/payouts/settings/stripe")  # the account exists: no country needed
    assert response.status_code == 302 and len(stripe_api.posts("/v1/accounts")) == 1
    assert len(stripe_api.posts("/v1/account_links")) == 2


def test_the_return_page_survives_stripe_being_down_and_reads_only_its_own_account(world, stripe_api):
    other = method(world.b.affiliate, stripe_onboarded=False)
    mine = method(world.a.affiliate, stripe_onboarded=False)  # acct_aff<pk>: unknown to the fake -> 404 from Stripe
    page = web_client(world.a.affiliate).get("/partner/payouts/settings/?stripe=return")
    assert page.status_code == 200 and "Stripe did not answer" in page.content.decode()
    assert [c.path for c in stripe_api.calls] == [f"/v1/accounts/{mine.stripe_account_id}"]
    assert other.stripe_account_id not in page.content.decode()


def test_the_api_reads_the_account_state_for_its_own_affiliate_only(world, stripe_api):
    client = world.a.client("affiliate")
    assert client.get("/api/v1/payout-methods/stripe-account").status_code == 404
    client.post(ONBOARD, {"country": "DE"}, format="json")
    account_id = PayoutMethod.objects.get().stripe_account_id
    body = client.get("/api/v1/payout-methods/stripe-account").json()
    assert body["account"] == account_id and body["country"] == "DE" and body["onboarded"] is False
    assert body["currently_due"] == ["external_account", "individual.dob.day"]
    assert world.b.client("affiliate").get("/api/v1/payout-methods/stripe-account").status_code == 404
    assert world.a.client("owner").get("/api/v1/payout-methods/stripe-account").status_code == 403
    stripe_api.accounts[account_id] |= {"details_submitted": True, "payouts_enabled": True}
    assert client.get("/api/v1/payout-methods/stripe-account").json()["onboarded"] is True
    assert PayoutMethod.objects.get().stripe_onboarded is True


def test_the_api_account_state_without_a_key_is_503(world, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = world.a.client("affiliate").get("/api/v1/payout-methods/stripe-account")
    assert response.status_code == 503 and "detail" in response.json()
