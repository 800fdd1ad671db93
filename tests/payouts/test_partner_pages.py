"""Partner payouts and payout settings: own payouts, methods (Stripe onboarding, PayPal, bank with IBAN check,
default, remove) and tax details with the form upload."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from payouts.models import MethodKind, Payout, PayoutBatch, PayoutMethod, TaxDetails
from payouts.providers import stripe_connect
from tests.pages import web_client
from tests.payouts.helpers import method

IBAN = "DE89 3704 0044 0532 0130 00"


def test_payout_pages_answer_the_affiliate_only(web):
    for url in ("/partner/payouts/", "/partner/payouts/settings/"):
        assert web("a", "affiliate").get(url).status_code == 200
        assert web("a", "advertiser").get(url).status_code == 403
        assert web("a", "owner").get(url).status_code == 403
        assert Client().get(url).status_code == 302
    assert web("a", "owner").post("/partner/payouts/settings/stripe").status_code == 403


def test_empty_payout_pages_say_what_to_do(web):
    assert b"No payout yet" in web("a", "affiliate").get("/partner/payouts/").content
    assert b"You have no payout method yet" in web("a", "affiliate").get("/partner/payouts/").content
    assert b"No payout method yet: add one" in web("a", "affiliate").get("/partner/payouts/settings/").content


def _payout(tenant, affiliate, amount, status="paid", currency="EUR"):
    batch = PayoutBatch.objects.create(network=tenant.network, status="completed")
    return Payout.objects.create(network=tenant.network, batch=batch, affiliate=affiliate, currency=currency,
                                 amount=Decimal(amount), fee=Decimal("0.50"), net=Decimal(amount) - Decimal("0.50"),
                                 status=status, method_kind=MethodKind.PAYPAL)


def test_payouts_list_shows_own_payouts_with_amount_fee_and_net(world, web):
    own = _payout(world.a, world.a.affiliate, "120.00")
    _payout(world.a, world.a.affiliate2, "777.00")
    _payout(world.b, world.b.affiliate, "888.00")
    page = web("a", "affiliate").get("/partner/payouts/").content.decode()
    assert own.reference in page and "€120.00" in page and "€0.50" in page and "€119.50" in page
    assert "777" not in page and "888" not in page


def test_adding_paypal_then_a_bank_account_and_switching_the_default(world, web):
    client = web("a", "affiliate")
    response = client.post("/partner/payouts/settings/", {"kind": "paypal", "paypal_email": "me@pay.test"})
    assert response.status_code == 302
    paypal = PayoutMethod.objects.get(affiliate=world.a.affiliate)
    assert paypal.is_default  # the first method is the default
    response = client.post("/partner/payouts/settings/", {
        "kind": "bank", "bank_holder": "Alpha Blog", "bank_account": IBAN, "bank_bic": "cobadeffxxx",
        "bank_country": "de"})
    assert response.status_code == 302
    bank = PayoutMethod.objects.get(affiliate=world.a.affiliate, kind="bank")
    assert (bank.bank_account, bank.bank_bic, bank.bank_country, bank.is_default) == (
        "DE89370400440532013000", "COBADEFFXXX", "DE", False)
    assert client.post(f"/partner/payouts/settings/{bank.pk}/default").status_code == 302
    bank.refresh_from_db()
    paypal.refresh_from_db()
    assert bank.is_default and not paypal.is_default
    page = client.get("/partner/payouts/settings/").content.decode()
    assert "me@pay.test" in page and "•••• 3000" in page and IBAN.replace(" ", "") not in page
    assert client.post(f"/partner/payouts/settings/{bank.pk}/remove").status_code == 302
    paypal.refresh_from_db()
    assert paypal.is_default and not PayoutMethod.objects.filter(pk=bank.pk).exists()


@pytest.mark.parametrize(("data", "field", "error"), [
    ({"kind": "bank", "bank_holder": "Alpha Blog", "bank_account": "DE89 3704 0044 0532 0130 01",
      "bank_bic": "COBADEFFXXX", "bank_country": "DE"},
     "bank_account", "Not a valid IBAN (check digits)."),
    ({"kind": "bank", "bank_holder": "Alpha Blog", "bank_account": IBAN, "bank_bic": "COBADEFFXXX",
      "bank_country": "D1"},
     "bank_country", "A two-letter ISO 3166 country code."),
    ({"kind": "bank", "bank_account": IBAN}, "bank_holder", "This field is required."),
    ({"kind": "paypal", "paypal_email": "not-an-email"}, "paypal_email", "Enter a valid email address."),
])
def test_bad_method_details_are_shown_next_to_the_field(world, web, data, field, error):
    response = web("a", "affiliate").post("/partner/payouts/settings/", data)
    assert response.status_code == 400
    form = response.context[f"{data['kind']}_form"]
    assert form.errors[field] == [error]
    assert not PayoutMethod.objects.exists()


def test_another_affiliates_or_networks_method_is_404(world, web):
    neighbour = method(world.a.affiliate2, MethodKind.PAYPAL)
    foreign = method(world.b.affiliate, MethodKind.PAYPAL)
    method(world.a.affiliate, MethodKind.PAYPAL)
    client = web("a", "affiliate")
    for other in (neighbour, foreign):
        assert client.post(f"/partner/payouts/settings/{other.pk}/default").status_code == 404
        assert client.post(f"/partner/payouts/settings/{other.pk}/remove").status_code == 404
    assert PayoutMethod.objects.filter(pk__in=[neighbour.pk, foreign.pk], is_default=True).count() == 2


def test_stripe_onboarding_without_stripe_configured_says_so(world, web, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = web("a", "affiliate").get("/partner/payouts/settings/").content.decode()
    assert "Stripe payouts are not available on this network yet" in page and "Connect with Stripe" not in page
    response = web("a", "affiliate").post("/partner/payouts/settings/stripe", follow=True)
    assert response.status_code == 200 and b"Stripe payouts are not available" in response.content
    assert not PayoutMethod.objects.exists()


def test_stripe_onboarding_redirects_to_stripes_link_and_records_the_account(world, web, settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = "sk_test_partner"
    calls = []
    monkeypatch.setattr(stripe_connect, "account_create",
                        lambda **kw: calls.append(kw) or SimpleNamespace(id="acct_partner1"))
    monkeypatch.setattr(stripe_connect, "account_link_create",
                        lambda **kw: calls.append(kw) or SimpleNamespace(url="https://connect.stripe.test/setup/x"))
    assert b"Connect with Stripe" in web("a", "affiliate").get("/partner/payouts/settings/").content
    response = web("a", "affiliate").post("/partner/payouts/settings/stripe", {"country": "DE"})
    assert response.status_code == 302 and response["Location"] == "https://connect.stripe.test/setup/x"
    stripe_method = PayoutMethod.objects.get(affiliate=world.a.affiliate)
    assert (stripe_method.kind, stripe_method.stripe_account_id, stripe_method.is_default) == (
        "stripe_connect", "acct_partner1", True)
    assert calls[0]["email"] == world.a.affiliate.email and calls[0]["country"] == "DE"
    assert calls[1]["return_url"].endswith("/partner/payouts/settings/?stripe=return")
    assert b"Finish on Stripe" in web("a", "affiliate").get("/partner/payouts/settings/").content


def test_tax_details_are_saved_with_the_uploaded_form(world, web):
    pdf = SimpleUploadedFile("w9.pdf", b"%PDF-1.4 test form", content_type="application/pdf")
    response = web("a", "affiliate").post("/partner/payouts/settings/", {
        "kind": "tax", "legal_name": "Alpha Blog LLC", "country": "us", "tax_id": "12-3456789", "form_type": "w9",
        "form_file": pdf})
    assert response.status_code == 302
    details = TaxDetails.objects.get(affiliate=world.a.affiliate)
    assert (details.legal_name, details.country, details.form_type) == ("Alpha Blog LLC", "US", "w9")
    assert details.form_file.read() == b"%PDF-1.4 test form"
    page = web("a", "affiliate").get("/partner/payouts/settings/").content.decode()
    assert 'value="Alpha Blog LLC"' in page and "your form is on file" in page
    details.form_file.delete()


def test_a_fake_pdf_or_bad_country_is_refused_next_to_the_field(world, web):
    fake = SimpleUploadedFile("w9.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = web("a", "affiliate").post("/partner/payouts/settings/", {
        "kind": "tax", "legal_name": "X", "country": "U1", "form_file": fake})
    assert response.status_code == 400
    errors = response.context["tax_form"].errors
    assert errors["form_file"] == ["This is not a PDF file."]
    assert errors["country"] == ["A two-letter ISO 3166 country code."]
    assert not TaxDetails.objects.exists()


def test_payout_method_form_enforces_csrf(world):
    client = web_client(world.a.affiliate, enforce_csrf_checks=True)
    response = client.post("/partner/payouts/settings/", {"kind": "paypal", "paypal_email": "me@pay.test"})
    assert response.status_code == 403 and not PayoutMethod.objects.exists()
