"""PayPal and bank payouts: the mass-pay CSV files, the operator's marks and the provider's result file."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from commissions.models import Account, Commission
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout
from tests.commissions.helpers import assert_ledger_consistent, owed

from .helpers import earn, method

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind


@pytest.fixture
def batch(world, stripe_api):
    a = world.a
    earn(a, "30.00")
    earn(a, "12.50", affiliate=a.affiliate2)
    earn(a, "9.99", affiliate=a.affiliate2, currency="USD")
    method(a.affiliate, MethodKind.BANK, bank_holder="=HYPERLINK(1)")
    method(a.affiliate2, MethodKind.PAYPAL)
    started = payout_batch_start(network=a.network)
    return payout_batch_run(batch_id=started.pk)


def _payout(affiliate, currency="EUR") -> Payout:
    return Payout.objects.get(affiliate=affiliate, currency=currency)


def test_paypal_file_follows_the_payouts_web_format_one_currency_per_file(world, batch):
    client = world.a.client("owner")
    assert client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=paypal").status_code == 400
    response = client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=paypal&currency=eur")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    eur = _payout(world.a.affiliate2)
    assert response.content.decode() == (
        f"{world.a.affiliate2.email},12.50,EUR,payout-{eur.pk},Affiliate payout payout-{eur.pk},PAYPAL\r\n")
    usd = _payout(world.a.affiliate2, "USD")
    body = client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=paypal&currency=USD").content.decode()
    assert body == f"{world.a.affiliate2.email},9.99,USD,payout-{usd.pk},Affiliate payout payout-{usd.pk},PAYPAL\r\n"


def test_bank_file_has_a_header_and_spreadsheet_safe_cells(world, batch):
    response = world.a.client("staff").get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank")
    payout = _payout(world.a.affiliate)
    assert response.content.decode().splitlines() == [
        "holder,iban,bic,country,amount,currency,reference",
        f"'=HYPERLINK(1),DE89370400440532013000,COBADEFFXXX,DE,30.00,EUR,payout-{payout.pk}",
    ]
    assert world.a.client("staff").get(f"/api/v1/payout-batches/{batch.pk}/csv?method=cash").status_code == 400


def test_operator_marks_paid_and_failed(world, batch, emitted):
    client = world.a.client("owner")
    paid, failed = _payout(world.a.affiliate), _payout(world.a.affiliate2)
    response = client.post(f"/api/v1/payouts/{paid.pk}/mark-paid", {"reference": "BANK-123"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "paid"
    assert response.json()["provider_reference"] == "BANK-123"
    assert client.post(f"/api/v1/payouts/{paid.pk}/mark-failed").status_code == 400  # paid stays paid
    response = client.post(f"/api/v1/payouts/{failed.pk}/mark-failed", {"reason": "Account closed"}, format="json")
    assert response.status_code == 200 and response.json()["failure_reason"] == "Account closed"
    assert client.post(f"/api/v1/payouts/{failed.pk}/mark-paid").status_code == 400
    assert owed(K.AFFILIATE_PAID, world.a.affiliate) == D("30")
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate2) == D("12.50")
    assert Commission.objects.filter(affiliate=world.a.affiliate2, currency="EUR").get().status == "approved"
    assert [e["event"] for e in emitted] == ["payout.paid", "payout.failed"]
    assert not client.get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank").content.decode().splitlines()[1:]
    assert_ledger_consistent()


def test_an_operator_cannot_fail_a_stripe_transfer_by_hand(world, stripe_api):
    earn(world.a, "30.00")
    method(world.a.affiliate)
    payout_batch_run(batch_id=payout_batch_start(network=world.a.network).pk)
    payout = Payout.objects.get()
    response = world.a.client("owner").post(f"/api/v1/payouts/{payout.pk}/mark-failed")
    assert response.status_code == 400 and "Stripe" in response.json()["detail"]
    payout.refresh_from_db()
    assert payout.status == "processing"


def _upload(client, batch, text):
    upload = SimpleUploadedFile("results.csv", text.encode(), content_type="text/csv")
    return client.post(f"/api/v1/payout-batches/{batch.pk}/results", {"file": upload}, format="multipart")


def test_a_result_file_marks_rows_paid_and_failed(world, batch):
    paid, failed, pending = _payout(world.a.affiliate), _payout(world.a.affiliate2), \
        _payout(world.a.affiliate2, "USD")
    text = ("Customer ID,Status,Transaction ID,Reason\n"
            f"payout-{paid.pk},Completed,7XY123,\n"
            f"payout-{failed.pk},Returned,,Recipient unknown\n"
            f"payout-{pending.pk},Unclaimed,,\n")
    response = _upload(world.a.client("owner"), batch, text)
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["paid", "failed", "processing"]
    assert response.json()["batch"]["counts"]["paid"] == 1
    paid.refresh_from_db()
    failed.refresh_from_db()
    assert paid.provider_reference == "7XY123" and failed.failure_reason == "Recipient unknown"
    assert_ledger_consistent()


@pytest.mark.parametrize("text", [
    "Customer ID,Status\npayout-999999,Completed\n",  # not in this batch
    "Name,Amount\nx,1\n",  # no reference/status columns
    "",
])
def test_a_bad_result_file_is_400_and_changes_nothing(world, batch, text):
    ok = _payout(world.a.affiliate)
    response = _upload(world.a.client("owner"), batch, f"Customer ID,Status\npayout-{ok.pk},Completed\n" + text
                       if text.startswith("Customer") else text)
    assert response.status_code == 400
    ok.refresh_from_db()
    assert ok.status == "processing"


def test_a_file_that_is_not_csv_text_is_400(world, batch):
    client = world.a.client("owner")
    for raw in (b"\xff\xfe\x00binary", b"Customer ID,Status\n\x00bad,Completed\n"):
        upload = SimpleUploadedFile("r.csv", raw)
        response = client.post(f"/api/v1/payout-batches/{batch.pk}/results", {"file": upload}, format="multipart")
        assert response.status_code == 400
        assert set(response.json()) & {"file", "line 2"}
    assert Payout.objects.filter(status="paid").count() == 0
