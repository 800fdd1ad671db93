"""Operator payout pages: KPI widget and chart, payout settings (payouts.policy's schema), batches, payouts, CSV."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from network.models import AuditLog, Network
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout, PayoutBatch
from payouts.policy import payout_policy
from tests.factories import days_rebuilt
from tests.pages import web_client
from tests.payouts.helpers import earn, method
from tracking.models import ClickRollup

PAGES = [
    ("/operator/payouts/", b"Payouts"),
    ("/operator/payouts/batches/", b"Run a payout batch now"),
    ("/operator/payouts/settings/", b"Minimum payout per currency"),
    ("/operator/charts/kpis.json?metric=clicks", b'"labels"'),
]


@pytest.fixture
def batch(world):
    """A run batch of network a: affiliate pays by PayPal (25.00 EUR), affiliate2 by bank (12.50 EUR)."""
    a = world.a
    earn(a, "25.00")
    earn(a, "12.50", affiliate=a.affiliate2)
    method(a.affiliate, MethodKind.PAYPAL)
    method(a.affiliate2, MethodKind.BANK)
    return payout_batch_run(batch_id=payout_batch_start(network=a.network).pk)


@pytest.mark.parametrize(("url", "content"), PAGES)
@pytest.mark.parametrize("role", ["owner", "staff"])
def test_payout_pages_answer_operators(web, url, content, role):
    response = web("a", role).get(url)
    assert response.status_code == 200 and content in response.content


@pytest.mark.parametrize(("url", "_"), PAGES)
@pytest.mark.parametrize("role", ["advertiser", "affiliate"])
def test_payout_pages_are_forbidden_to_parties(web, url, _, role):
    assert web("a", role).get(url).status_code == 403


@pytest.mark.parametrize(("url", "_"), PAGES)
def test_payout_pages_send_anonymous_visitors_to_login(db, url, _):
    assert Client().get(url)["Location"].startswith("/accounts/login/")


# --- settings ---------------------------------------------------------------------------------------------------
def payout_form(**overrides):
    return {"schedule_kind": "weekly", "weekday": "4", "day": "1", "thresholds": "EUR 50.00\njpy 5000",
            "fee_kind": "flat", "fee_flat": "EUR 1.00", "fee_percent": "0", "fee_paid_by": "affiliate"} | overrides


def test_a_schedule_saved_from_the_web_is_the_schedule_the_payouts_app_runs(world, web):
    response = web("a", "owner").post("/operator/payouts/settings/", payout_form())
    assert response.status_code == 302
    network = Network.objects.get(pk=world.a.network.pk)
    policy = payout_policy(network)
    assert (policy.schedule_kind, policy.weekday) == ("weekly", 4)
    assert policy.thresholds == {"EUR": Decimal("50.00"), "JPY": Decimal("5000")}
    assert policy.fee_kind == "flat" and policy.fee_for(Decimal("20"), "EUR") == Decimal("1.00")
    assert policy.period_due(date(2026, 11, 27)) == "weekly:2026-W48"  # a Friday
    assert policy.period_due(date(2026, 11, 26)) is None
    assert AuditLog.objects.get(action="payout_settings.updated").actor == world.a.owner.user
    page = web("a", "owner").get("/operator/payouts/settings/").content.decode()
    assert "EUR 50.00" in page and '<option value="4" selected>' in page
    assert payout_policy(world.b.network).schedule_kind == "manual"


def test_monthly_schedule_from_the_web_is_due_on_its_day(world, web):
    web("a", "owner").post("/operator/payouts/settings/", payout_form(schedule_kind="monthly", day="31",
                                                                      fee_kind="none"))
    policy = payout_policy(Network.objects.get(pk=world.a.network.pk))
    assert policy.period_due(date(2027, 2, 28)) == "monthly:2027-02"  # clamped to February's last day


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"thresholds": "EUR 10.005"}, "thresholds", "EUR: At most the minor units of EUR."),
    ({"thresholds": "FOO 10"}, "thresholds", "FOO: &#x27;FOO&#x27; is not an ISO 4217 currency code."),
    ({"thresholds": "EUR -1"}, "thresholds", "EUR: Must not be negative."),
    ({"thresholds": "EUR 1\nEUR 2"}, "thresholds", "EUR is listed twice"),
    ({"fee_flat": "EUR"}, "fee_flat", "write a currency and an amount"),
    ({"fee_percent": "150"}, "fee_percent", "From 0 to 100."),
    ({"day": "32"}, "day", "An integer from 1 to 31."),
    ({"schedule_kind": "daily"}, "schedule_kind", "Select a valid choice"),
])
def test_bad_payout_settings_show_the_policys_errors_next_to_the_field(world, web, overrides, field, message):
    response = web("a", "owner").post("/operator/payouts/settings/", payout_form(**overrides))
    assert response.status_code == 400
    page = response.content.decode()
    errors = page[page.index(f'id="id_{field}_error"'):]
    assert message in errors[:errors.index("</ul>")]
    assert Network.objects.get(pk=world.a.network.pk).payout_settings == {}


def test_csrf_is_enforced_on_the_payout_settings_form(world):
    client = web_client(world.a.owner, enforce_csrf_checks=True)
    assert client.post("/operator/payouts/settings/", payout_form()).status_code == 403
    assert Network.objects.get(pk=world.a.network.pk).payout_settings == {}
    client.get("/operator/payouts/settings/")
    token = client.cookies["csrftoken"].value
    assert client.post("/operator/payouts/settings/", payout_form(csrfmiddlewaretoken=token)).status_code == 302


# --- overview ---------------------------------------------------------------------------------------------------
def test_overview_shows_30_day_kpis_and_what_needs_action(world, web):
    a = world.a
    approved = earn(a, "25.00")
    type(approved).objects.filter(pk=approved.pk).update(revenue=Decimal("40.00"))  # the advertiser pays more
    commission = earn(a, "10.00", approve=False)
    commission.status = "on_hold"
    commission.save()
    ClickRollup.objects.create(network=a.network, hour=timezone.now().replace(minute=0, second=0, microsecond=0),
                               program=commission.program, affiliate=a.affiliate, clicks=40, unique_clicks=30)
    days_rebuilt(a.network)  # the rollup and the revenue written around the services
    earn(world.b, "999.00")
    page = web("a", "owner").get("/operator/").content.decode()
    assert 'Advertiser cost <small>(30 days)</small></span><span class="kpi-value">€50.00<' in page
    assert 'Payout <small>(30 days)</small></span><span class="kpi-value">€35.00<' in page
    assert 'Network margin <small>(30 days)</small></span><span class="kpi-value">€15.00<' in page
    assert 'Clicks <small>(30 days)</small></span><span class="kpi-value">40<' in page
    assert 'Conversions <small>(30 days)</small></span><span class="kpi-value">2<' in page
    assert 'Held for review</span><span class="kpi-value">1<' in page
    assert 'Running batches</span><span class="kpi-value">0<' in page
    assert "999" not in page
    chart = web("a", "owner").get("/operator/charts/kpis.json?metric=payout").json()
    assert len(chart["labels"]) == 30 and chart["data"][-1] == "35.00" and chart["currency"] == "EUR"
    assert web("a", "owner").get("/operator/charts/kpis.json?metric=profit").json()["data"][-1] == "15.00"
    assert web("a", "owner").get("/operator/charts/kpis.json?metric=clicks").json()["data"][-1] == 40
    assert web("a", "owner").get("/operator/charts/kpis.json?metric=bogus").status_code == 400


# --- batches ----------------------------------------------------------------------------------------------------
def test_operator_runs_a_batch_and_sees_its_payouts(world, web):
    a = world.a
    earn(a, "25.00")
    earn(a, "3.00", affiliate=a.affiliate2)  # no payout method: skipped with its reason
    method(a.affiliate, MethodKind.PAYPAL)
    response = web("a", "owner").post("/operator/payouts/batches/")
    batch = PayoutBatch.objects.get(network=a.network)
    assert response.status_code == 302 and response["Location"] == f"/operator/payouts/batches/{batch.pk}/"
    page = web("a", "owner").get(response["Location"]).content.decode()
    assert "1</strong> of <strong>1</strong>" in page and a.affiliate.name in page and "25.00" in page
    assert a.affiliate2.name in page and "Skipped balances" in page
    assert f"/operator/payouts/batches/{batch.pk}/paypal.csv?currency=EUR" in page
    assert AuditLog.objects.filter(action="payout_batch.started", actor=a.owner.user).exists()


def test_a_second_batch_while_one_runs_is_refused_with_409(world, web):
    running = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.PAYING)
    response = web("a", "owner").post("/operator/payouts/batches/")
    assert response.status_code == 409
    assert "still running" in response.content.decode()
    assert PayoutBatch.objects.filter(network=world.a.network).count() == 1
    fragment = web("a", "owner").get(f"/operator/payouts/batches/{running.pk}/?fragment=progress",
                                     HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "<progress" in fragment and "<html" not in fragment


def test_csv_downloads_are_the_payouts_services_files(world, web, batch):
    client = web("a", "owner")
    paypal = client.get(f"/operator/payouts/batches/{batch.pk}/paypal.csv?currency=EUR")
    assert paypal.status_code == 200 and paypal["Content-Type"].startswith("text/csv")
    assert "attachment" in paypal["Content-Disposition"]
    payout = Payout.objects.get(affiliate=world.a.affiliate)
    assert paypal.content.decode() == f"{world.a.affiliate.email},25.00,EUR,payout-{payout.pk}," \
                                      f"Affiliate payout payout-{payout.pk},PAYPAL\r\n"
    bank = client.get(f"/operator/payouts/batches/{batch.pk}/bank.csv").content.decode().splitlines()
    assert bank[0] == "holder,iban,bic,country,amount,currency,reference" and ",12.50,EUR," in bank[1]
    assert client.get(f"/operator/payouts/batches/{batch.pk}/paypal.csv?currency=EURO").status_code == 400


def test_marking_payouts_paid_and_failed_with_htmx(world, web, batch):
    client = web("a", "owner")
    paypal, bank = Payout.objects.get(affiliate=world.a.affiliate), Payout.objects.get(affiliate=world.a.affiliate2)
    row = client.post(f"/operator/payouts/{paypal.pk}/mark-paid", {"reference": "PP-123"}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "Paid" in row.content.decode() and "<html" not in row.content.decode()
    paypal.refresh_from_db()
    assert (paypal.status, paypal.provider_reference) == ("paid", "PP-123")
    missing = client.post(f"/operator/payouts/{bank.pk}/mark-failed", {"reason": ""}, HTTP_HX_REQUEST="true")
    assert "Say why it failed." in missing.content.decode()
    bank.refresh_from_db()
    assert bank.status == "processing"
    client.post(f"/operator/payouts/{bank.pk}/mark-failed", {"reason": "IBAN closed"})
    bank.refresh_from_db()
    assert (bank.status, bank.failure_reason) == ("failed", "IBAN closed")
    again = client.post(f"/operator/payouts/{paypal.pk}/mark-failed", {"reason": "x"}, HTTP_HX_REQUEST="true")
    assert "cannot be marked failed" in again.content.decode()
    assert AuditLog.objects.filter(action__startswith="payout.").count() >= 2


def test_provider_result_file_is_applied_or_rejected_whole(world, web, batch):
    client = web("a", "owner")
    paypal = Payout.objects.get(affiliate=world.a.affiliate)
    bad = SimpleUploadedFile("r.csv", f"reference,status\npayout-{paypal.pk},paid\npayout-999999,paid\n".encode())
    response = client.post(f"/operator/payouts/batches/{batch.pk}/results", {"file": bad})
    assert response.status_code == 400 and "No PayPal or bank payout" in response.content.decode()
    paypal.refresh_from_db()
    assert paypal.status == "processing"
    good = SimpleUploadedFile("r.csv", f"reference,status\npayout-{paypal.pk},completed\n".encode())
    assert client.post(f"/operator/payouts/batches/{batch.pk}/results", {"file": good}).status_code == 302
    paypal.refresh_from_db()
    assert paypal.status == "paid"


def test_payouts_list_filters(world, web, batch):
    client = web("a", "owner")
    page = client.get("/operator/payouts/?method=bank").content.decode()
    assert world.a.affiliate2.name in page and world.a.affiliate.name not in page
    page = client.get("/operator/payouts/?status=paid").content.decode()
    assert "No payout matches" in page
    assert world.a.affiliate.name in client.get(f"/operator/payouts/?batch={batch.pk}&currency=eur").content.decode()


def test_another_networks_batch_and_payouts_are_404(world, web, batch):
    client = web("b", "owner")
    payout = Payout.objects.get(affiliate=world.a.affiliate)
    assert client.get(f"/operator/payouts/batches/{batch.pk}/").status_code == 404
    assert client.get(f"/operator/payouts/batches/{batch.pk}/bank.csv").status_code == 404
    upload = SimpleUploadedFile("r.csv", f"reference,status\npayout-{payout.pk},paid\n".encode())
    assert client.post(f"/operator/payouts/batches/{batch.pk}/results", {"file": upload}).status_code == 404
    assert client.post(f"/operator/payouts/{payout.pk}/mark-paid").status_code == 404
    assert world.a.affiliate.name not in client.get("/operator/payouts/").content.decode()
    payout.refresh_from_db()
    assert payout.status == "processing"


def test_parties_cannot_run_batches_or_mark_payouts(world, web, batch):
    payout = Payout.objects.get(affiliate=world.a.affiliate)
    for role in ("advertiser", "affiliate"):
        assert web("a", role).post("/operator/payouts/batches/").status_code == 403
        assert web("a", role).post(f"/operator/payouts/{payout.pk}/mark-paid").status_code == 403
        assert web("a", role).get(f"/operator/payouts/batches/{batch.pk}/paypal.csv").status_code == 403
    assert PayoutBatch.objects.count() == 1
