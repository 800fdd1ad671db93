"""Payout settings: a PayPal address once per affiliate (any letter case), the BIC optional when the IBAN's bank is
known (filled in from it) and required otherwise, and the Stripe Connect account's state shown as stored."""

import pytest

from payouts.models import MethodKind, PayoutMethod

from .helpers import method
from .stripe_fake import event, signed

SETTINGS = "/partner/payouts/settings/"
WEBHOOK = "/api/v1/stripe/webhook"


def test_the_same_paypal_address_cannot_be_added_twice(world, web):
    client = web("a", "affiliate")
    assert client.post(SETTINGS, {"kind": "paypal", "paypal_email": "me@pay.test"}).status_code == 302
    response = client.post(SETTINGS, {"kind": "paypal", "paypal_email": "  ME@Pay.Test "})
    assert response.status_code == 400
    assert response.context["paypal_form"].errors["paypal_email"] == ["You already added this PayPal address."]
    assert b"You already added this PayPal address." in response.content
    assert PayoutMethod.objects.filter(affiliate=world.a.affiliate).count() == 1
    # Another affiliate (of this network or another) may use it.
    assert web("a", "affiliate2").post(SETTINGS, {"kind": "paypal", "paypal_email": "me@pay.test"}).status_code == 302
    assert web("b", "affiliate").post(SETTINGS, {"kind": "paypal", "paypal_email": "me@pay.test"}).status_code == 302


def test_the_api_refuses_a_duplicate_paypal_address_too(world):
    client = world.a.client("affiliate")
    first = client.post("/api/v1/payout-methods", {"kind": "paypal", "paypal_email": "me@pay.test"}, format="json")
    assert first.status_code == 201
    again = client.post("/api/v1/payout-methods", {"kind": "paypal", "paypal_email": "Me@pay.test"}, format="json")
    assert again.status_code == 400 and "paypal_email" in again.json()
    other = client.post("/api/v1/payout-methods", {"kind": "paypal", "paypal_email": "other@pay.test"}, format="json")
    assert other.status_code == 201
    changed = client.patch(f"/api/v1/payout-methods/{other.json()['id']}", {"paypal_email": "ME@PAY.TEST"},
                           format="json")
    assert changed.status_code == 400 and "paypal_email" in changed.json()
    same = client.patch(f"/api/v1/payout-methods/{first.json()['id']}", {"label": "Main"}, format="json")
    assert same.status_code == 200  # saving a method again is no duplicate of itself


def bank(client, account, bic="", country="DE"):
    return client.post(SETTINGS, {"kind": "bank", "bank_holder": "Alpha Blog", "bank_account": account,
                                  "bank_bic": bic, "bank_country": country})


@pytest.mark.parametrize(("iban", "bic"), [
    ("DE89 3704 0044 0532 0130 00", "COBADEFFXXX"),
    ("LV97 HABA 0012 3456 7891 0", "HABALV22XXX"),
    ("PL61 1090 1014 0000 0712 1981 2874", "WBKPPLPPXXX"),
])
def test_the_bic_is_optional_when_the_ibans_bank_is_known(world, web, iban, bic):
    assert bank(web("a", "affiliate"), iban, country=iban[:2]).status_code == 302
    assert PayoutMethod.objects.get(affiliate=world.a.affiliate, kind="bank").bank_bic == bic


def test_a_bic_given_is_kept(world, web):
    assert bank(web("a", "affiliate"), "DE89370400440532013000", bic="cobadeffxxx").status_code == 302
    assert PayoutMethod.objects.get(affiliate=world.a.affiliate).bank_bic == "COBADEFFXXX"


@pytest.mark.parametrize(("account", "country", "error"), [
    ("LV80 BANK 0000 4351 9500 1", "LV", "We do not know the bank of this IBAN: add its BIC."),
    ("000123456789", "US", "Add the BIC/SWIFT or routing number of this account."),
])
def test_the_bic_is_required_when_the_bank_is_not_known(world, web, account, country, error):
    response = bank(web("a", "affiliate"), account, country=country)
    assert response.status_code == 400 and response.context["bank_form"].errors["bank_bic"] == [error]
    assert not PayoutMethod.objects.exists()


def test_the_stripe_accounts_state_is_shown_as_stored(world, web, anon, stripe_api):
    stripe = method(world.a.affiliate, MethodKind.STRIPE_CONNECT, stripe_onboarded=False)
    page = web("a", "affiliate").get(SETTINGS).content.decode()
    assert "Onboarding not finished" in page and "has not told us this account" in page
    account = {"id": stripe.stripe_account_id, "object": "account", "country": "de", "payouts_enabled": False,
               "details_submitted": True, "capabilities": {"transfers": "pending"},
               "requirements": {"currently_due": ["individual.verification.document"],
                                "disabled_reason": "requirements.pending_verification"}}
    body, signature = signed(event("account.updated", account))
    assert anon.post(WEBHOOK, data=body, content_type="application/json",
                     HTTP_STRIPE_SIGNATURE=signature).status_code == 200
    stripe.refresh_from_db()
    assert stripe.stripe_account_state["currently_due"] == ["individual.verification.document"]
    assert stripe.stripe_account_state["details_submitted"] is True and not stripe.stripe_onboarded
    page = web("a", "affiliate").get(SETTINGS).content.decode()
    assert f'data-testid="stripe-state-{stripe.pk}"' in page
    assert "Details submitted: yes" in page and "Payouts enabled: no" in page
    assert "individual.verification.document" in page and "requirements.pending_verification" in page
    assert "As Stripe told us on" in page
    # Another affiliate's page shows none of it.
    assert "individual.verification.document" not in web("a", "affiliate2").get(SETTINGS).content.decode()
