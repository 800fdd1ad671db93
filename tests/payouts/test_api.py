"""Payouts API: roles, the 404 across networks, payout methods, tax details, payout settings."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from network.models import AuditLog
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout, PayoutMethod, TaxDetails
from payouts.providers import stripe_connect

from .helpers import earn, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_world(world, settings):
    """A processing payout in each network (PayPal, no Stripe needed)."""
    settings.STRIPE_SECRET_KEY = ""
    for tenant in (world.a, world.b):
        earn(tenant, "30.00")
        method(tenant.affiliate, MethodKind.PAYPAL)
        payout_batch_run(batch_id=payout_batch_start(network=tenant.network).pk)
    return world


def test_payouts_are_listed_by_role(paid_world, anon):
    a = paid_world.a
    mine = Payout.objects.get(network=a.network)
    assert anon.get("/api/v1/payouts").status_code == 401
    assert a.client("advertiser").get("/api/v1/payouts").status_code == 403
    own = a.client("affiliate").get("/api/v1/payouts").json()["results"]
    assert [p["id"] for p in own] == [mine.pk] and own[0]["amount"] == "30.00" and own[0]["currency"] == "EUR"
    assert a.client("affiliate2").get("/api/v1/payouts").json()["results"] == []
    assert [p["id"] for p in a.client("staff").get("/api/v1/payouts").json()["results"]] == [mine.pk]
    assert a.client("owner").get("/api/v1/payouts?status=paid").json()["results"] == []
    assert a.client("owner").get(f"/api/v1/payouts?batch={mine.batch_id}&currency=EUR").json()["count"] == 1
    assert a.client("affiliate2").get(f"/api/v1/payouts/{mine.pk}").status_code == 404


def test_other_networks_objects_answer_404(paid_world):
    a, b = paid_world.a, paid_world.b
    theirs = Payout.objects.get(network=b.network)
    owner = a.client("owner")
    assert owner.get(f"/api/v1/payouts/{theirs.pk}").status_code == 404
    assert owner.post(f"/api/v1/payouts/{theirs.pk}/mark-paid").status_code == 404
    assert owner.post(f"/api/v1/payouts/{theirs.pk}/mark-failed").status_code == 404
    assert owner.get(f"/api/v1/payout-batches/{theirs.batch_id}").status_code == 404
    assert owner.get(f"/api/v1/payout-batches/{theirs.batch_id}/csv?method=paypal").status_code == 404
    assert owner.post(f"/api/v1/payout-batches/{theirs.batch_id}/run").status_code == 404
    upload = SimpleUploadedFile("r.csv", f"Customer ID,Status\n{theirs.reference},Completed\n".encode())
    assert owner.post(f"/api/v1/payout-batches/{theirs.batch_id}/results", {"file": upload},
                      format="multipart").status_code == 404
    their_method = PayoutMethod.objects.get(network=b.network)
    affiliate = a.client("affiliate")
    assert affiliate.get(f"/api/v1/payout-methods/{their_method.pk}").status_code == 404
    assert affiliate.patch(f"/api/v1/payout-methods/{their_method.pk}", {"label": "x"}, format="json"
                           ).status_code == 404
    assert affiliate.post(f"/api/v1/payout-methods/{their_method.pk}/set-default").status_code == 404
    assert affiliate.delete(f"/api/v1/payout-methods/{their_method.pk}").status_code == 404
    assert PayoutMethod.objects.filter(pk=their_method.pk, label="").exists()
    assert owner.get(f"/api/v1/payout-methods/{their_method.pk}").status_code == 404
    assert owner.get(f"/api/v1/tax-details?affiliate={b.affiliate.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "processing"


def test_batches_are_for_operators(paid_world, anon):
    a = paid_world.a
    assert anon.post("/api/v1/payout-batches").status_code == 401
    for role in ("advertiser", "affiliate"):
        assert a.client(role).get("/api/v1/payout-batches").status_code == 403
        assert a.client(role).post("/api/v1/payout-batches").status_code == 403
    payout = Payout.objects.get(network=a.network)
    assert a.client("affiliate").post(f"/api/v1/payouts/{payout.pk}/mark-paid").status_code == 403
    assert a.client("affiliate").get(f"/api/v1/payout-batches/{payout.batch_id}/csv?method=paypal").status_code == 403
    [row] = a.client("staff").get("/api/v1/payout-batches").json()["results"]
    assert row["id"] == payout.batch_id and row["status"] == "processing"
    assert (row["total"], row["done"], row["progress"]) == (1, 1, 1.0)
    assert row["counts"]["processing"] == 1 and row["totals"] == {"EUR": "30.00"}
    detail = a.client("owner").get(f"/api/v1/payout-batches/{payout.batch_id}").json()
    assert detail["id"] == payout.batch_id


def test_an_affiliate_manages_its_own_methods_with_one_default(world):
    client = world.a.client("affiliate")
    response = client.post("/api/v1/payout-methods", {"kind": "paypal", "paypal_email": "me@pay.test"},
                           format="json")
    assert response.status_code == 201 and response.json()["is_default"] is True
    first = response.json()["id"]
    response = client.post("/api/v1/payout-methods", {
        "kind": "bank", "bank_holder": "Alpha Blog", "bank_account": "DE89 3704 0044 0532 0130 00",
        "bank_bic": "cobadeffxxx", "bank_country": "de", "is_default": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_default"] is True and body["bank_account"] == "DE89370400440532013000"
    assert body["bank_bic"] == "COBADEFFXXX"
    assert PayoutMethod.objects.filter(affiliate=world.a.affiliate, is_default=True).get().pk == body["id"]
    assert client.post(f"/api/v1/payout-methods/{first}/set-default").json()["is_default"] is True
    assert PayoutMethod.objects.get(pk=body["id"]).is_default is False
    response = client.patch(f"/api/v1/payout-methods/{first}", {"paypal_email": "new@pay.test"}, format="json")
    assert response.status_code == 200 and response.json()["paypal_email"] == "new@pay.test"
    assert client.delete(f"/api/v1/payout-methods/{first}").status_code == 204
    assert PayoutMethod.objects.get(affiliate=world.a.affiliate).is_default is True  # the other took over
    assert AuditLog.objects.filter(action="payout_method.created").count() == 2
    # Operators read; advertisers and other affiliates see nothing of it.
    assert world.a.client("owner").get(f"/api/v1/payout-methods?affiliate={world.a.affiliate.pk}").json()["count"] == 1
    assert world.a.client("owner").post("/api/v1/payout-methods", {"kind": "paypal"}, format="json"
                                        ).status_code == 403
    assert world.a.client("advertiser").get("/api/v1/payout-methods").status_code == 403
    assert world.a.client("affiliate2").get("/api/v1/payout-methods").json()["count"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "paypal"}, "paypal_email"),
    ({"kind": "paypal", "paypal_email": "not-an-email"}, "paypal_email"),
    ({"kind": "bank", "bank_holder": "A", "bank_account": "DE00370400440532013000", "bank_bic": "X",
      "bank_country": "DE"}, "bank_account"),
    ({"kind": "bank", "bank_holder": "A", "bank_account": "123", "bank_bic": "X", "bank_country": "DEU"},
     "bank_country"),
    ({"kind": "stripe_connect"}, "kind"),
    ({"kind": "cash"}, "kind"),
])
def test_bad_methods_are_400_with_field_errors(world, body, field):
    response = world.a.client("affiliate").post("/api/v1/payout-methods", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not PayoutMethod.objects.exists()


def test_stripe_onboarding_creates_an_express_account_and_a_link(world, stripe_api):
    client = world.a.client("affiliate")
    response = client.post("/api/v1/payout-methods/stripe-onboarding", {"country": "us"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    account_id = body["method"]["stripe_account_id"]
    assert body["url"] == f"https://connect.stripe.com/setup/e/{account_id}/abc123"
    assert body["method"]["kind"] == "stripe_connect" and body["method"]["is_default"] is True
    [create] = stripe_api.posts("/v1/accounts")
    assert create.params["type"] == "express" and create.params["email"] == world.a.affiliate.email
    assert create.params["capabilities[transfers][requested]"] == "true"
    assert create.params["country"] == "US" and "tos_acceptance[service_agreement]" not in create.params
    # The key names the network and affiliate and changes with the parameters (a digest of them).
    assert create.headers["Idempotency-Key"] == stripe_connect.account_idempotency_key(
        stripe_connect.account_params(network_id=world.a.network.pk, affiliate_id=world.a.affiliate.pk,
                                      email=world.a.affiliate.email, country="US"))
    assert create.headers["Idempotency-Key"].startswith(f"account-{world.a.network.pk}-{world.a.affiliate.pk}-")
    [link] = stripe_api.posts("/v1/account_links")
    assert link.params["account"] == account_id and link.params["type"] == "account_onboarding"
    assert link.params["return_url"] == "http://testserver/partner/payouts/settings/?stripe=return"
    assert link.params["refresh_url"] == "http://testserver/partner/payouts/settings/?stripe=refresh"
    # Again: a new link for the same account, no second account.
    assert client.post("/api/v1/payout-methods/stripe-onboarding").json()["method"]["stripe_account_id"] == account_id
    assert len(stripe_api.posts("/v1/accounts")) == 1 and len(stripe_api.posts("/v1/account_links")) == 2


def test_stripe_onboarding_without_a_key_is_503(world, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = world.a.client("affiliate").post("/api/v1/payout-methods/stripe-onboarding")
    assert response.status_code == 503 and "detail" in response.json()
    assert not PayoutMethod.objects.exists()


def test_tax_details_with_a_form_upload(world):
    client = world.a.client("affiliate")
    assert client.get("/api/v1/tax-details").json()["has_form"] is False
    form = SimpleUploadedFile("w9.pdf", b"%PDF-1.4 test form", content_type="application/pdf")
    response = client.patch("/api/v1/tax-details", {"legal_name": "Alpha Blog LLC", "country": "us",
                                                    "tax_id": "12-3456789", "form_type": "w9", "form_file": form},
                            format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["country"] == "US" and response.json()["has_form"] is True
    details = TaxDetails.objects.get(affiliate=world.a.affiliate)
    assert details.form_file.name.startswith(f"tax-forms/{world.a.network.pk}/") and "w9" not in details.form_file.name
    owner = world.a.client("owner")
    assert owner.get(f"/api/v1/tax-details?affiliate={world.a.affiliate.pk}").json()["legal_name"] == "Alpha Blog LLC"
    download = owner.get(f"/api/v1/tax-details/form?affiliate={world.a.affiliate.pk}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 test form"
    assert owner.patch("/api/v1/tax-details", {"legal_name": "x"}, format="json").status_code == 403
    assert world.a.client("advertiser").get("/api/v1/tax-details").status_code == 403
    assert world.a.client("affiliate2").get("/api/v1/tax-details/form").status_code == 404
    fake = SimpleUploadedFile("w9.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.patch("/api/v1/tax-details", {"form_file": fake}, format="multipart")
    assert response.status_code == 400 and "form_file" in response.json()
    assert client.patch("/api/v1/tax-details", {"country": "USA"}, format="json").status_code == 400


def test_payout_settings_are_read_and_patched_by_operators(world):
    owner = world.a.client("owner")
    assert owner.get("/api/v1/payout-settings").json()["schedule"] == {"kind": "manual", "weekday": 0, "day": 1}
    response = owner.patch("/api/v1/payout-settings", {"schedule": {"kind": "weekly", "weekday": 4},
                                                       "thresholds": {"EUR": "50.00", "JPY": "5000"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["schedule"] == {"kind": "weekly", "weekday": 4, "day": 1}
    response = world.a.client("staff").patch("/api/v1/payout-settings", {"fee": {"kind": "flat",
                                                                                 "flat": {"EUR": "1.50"}}},
                                             format="json")
    body = response.json()
    assert body["fee"] == {"kind": "flat", "flat": {"EUR": "1.50"}, "percent": "0", "paid_by": "affiliate"}
    assert body["thresholds"] == {"EUR": "50.00", "JPY": "5000"} and body["schedule"]["kind"] == "weekly"
    world.a.network.refresh_from_db()
    assert world.a.network.payout_settings == body
    world.b.network.refresh_from_db()
    assert world.b.network.payout_settings == {}
    for role in ("advertiser", "affiliate"):
        assert world.a.client(role).get("/api/v1/payout-settings").status_code == 403
        assert world.a.client(role).patch("/api/v1/payout-settings", {}, format="json").status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"schedule": {"kind": "daily"}}, "schedule.kind"),
    ({"schedule": {"kind": "weekly", "weekday": 7}}, "schedule.weekday"),
    ({"schedule": {"kind": "monthly", "day": 0}}, "schedule.day"),
    ({"thresholds": {"EUR": "10.001"}}, "thresholds.EUR"),
    ({"thresholds": {"JPY": "1.5"}}, "thresholds.JPY"),
    ({"thresholds": {"XXY": "1"}}, "thresholds.XXY"),
    ({"thresholds": {"EUR": 10.5}}, "thresholds.EUR"),
    ({"thresholds": {"EUR": "-1"}}, "thresholds.EUR"),
    ({"fee": {"kind": "percent", "percent": "101"}}, "fee.percent"),
    ({"fee": {"paid_by": "advertiser"}}, "fee.paid_by"),
    ({"colour": "blue"}, "detail"),
    ({"fee": "none"}, "fee"),
])
def test_bad_payout_settings_are_400_and_change_nothing(world, body, field):
    response = world.a.client("owner").patch("/api/v1/payout-settings", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    world.a.network.refresh_from_db()
    assert world.a.network.payout_settings == {}


def test_batch_list_takes_a_constant_number_of_queries(paid_world, django_assert_max_num_queries):
    a = paid_world.a
    for _ in range(3):
        payout_batch_run(batch_id=payout_batch_start(network=a.network).pk)
    with django_assert_max_num_queries(8):
        rows = a.client("owner").get("/api/v1/payout-batches").json()["results"]
    assert len(rows) == 4


def test_the_database_enforces_one_default_method(world):
    from django.db import IntegrityError, transaction

    method(world.a.affiliate, MethodKind.PAYPAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutMethod.objects.create(network=world.a.network, affiliate=world.a.affiliate, kind=MethodKind.BANK,
                                    is_default=True)
