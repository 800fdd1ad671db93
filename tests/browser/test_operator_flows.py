"""The operator in a real browser: the overview with 30 days of figures; a payout batch run and its CSV download."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.models import Commission
from payouts.models import MethodKind, Payout, PayoutBatch
from tests.payouts.helpers import earn, method
from tracking.models import ClickRollup

from .conftest import log_in, with_password
from .test_flows import populate_recent_sign_ups

pytestmark = pytest.mark.browser


def populate_month(tenant) -> None:
    """Approved commissions and hourly click rollups spread over the last 30 days (a fixed seed)."""
    rng = random.Random(8)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for days_ago in range(30):
        for _ in range(rng.randint(1, 2)):
            affiliate = rng.choice([tenant.affiliate, tenant.affiliate2])
            commission = earn(tenant, f"{rng.randint(5, 40)}.{rng.randint(0, 99):02d}", affiliate=affiliate)
            Commission.objects.filter(pk=commission.pk).update(
                created_at=now - timedelta(days=days_ago, hours=rng.randint(0, 12)),
                revenue=commission.amount * Decimal("1.25"))
    program = Commission.objects.filter(network=tenant.network).first().program
    for days_ago in range(30):
        ClickRollup.objects.create(network=tenant.network, hour=now - timedelta(days=days_ago, hours=3),
                                   program=program, affiliate=tenant.affiliate, clicks=rng.randint(80, 220),
                                   unique_clicks=rng.randint(60, 80))
    held = earn(tenant, "19.90", approve=False)
    Commission.objects.filter(pk=held.pk).update(status=Commission.Status.ON_HOLD)


def test_operator_overview_shows_the_networks_month(world, new_page, screenshot_dir):
    with_password(world.a.owner.user)
    populate_month(world.a)
    populate_recent_sign_ups(world.a.network)
    operator = new_page()
    log_in(operator, "owner@alpha.test")
    operator.locator("#chart-kpis[data-chart-ready=true]").wait_for()
    assert operator.get_by_test_id("kpi-revenue").inner_text().startswith("Advertiser cost")
    assert "€" in operator.get_by_test_id("kpi-profit").inner_text()
    assert "Held for review\n1" in operator.get_by_test_id("needs-action").inner_text()
    operator.screenshot(path=str(screenshot_dir / "operator.png"), full_page=True)


def test_operator_runs_a_payout_batch_and_downloads_the_paypal_csv(world, new_page):
    a = world.a
    with_password(a.owner.user)
    earn(a, "42.50")
    earn(a, "7.25")
    earn(a, "18.00", affiliate=a.affiliate2)
    method(a.affiliate, MethodKind.PAYPAL, paypal_email="payme@blog.test")
    method(a.affiliate2, MethodKind.BANK)

    operator = new_page()
    log_in(operator, "owner@alpha.test")
    operator.locator(".sidenav").get_by_role("link", name="Payout batches").click()
    operator.get_by_role("button", name="Run a payout batch now").click()
    operator.get_by_role("heading", name="Payout batch #").wait_for()
    assert "2 of 2 payouts sent" in operator.locator("#batch-progress").inner_text()
    with operator.expect_download() as info:
        operator.get_by_role("button", name="PayPal CSV (EUR)").click()
    download = info.value
    with open(download.path(), "rb") as file:
        content = file.read().decode()
    payout = Payout.objects.get(affiliate=a.affiliate, batch=PayoutBatch.objects.get(network=a.network))
    assert content == f"payme@blog.test,49.75,EUR,payout-{payout.pk},Affiliate payout payout-{payout.pk},PAYPAL\r\n"
    assert download.suggested_filename == f"payout-batch-{payout.batch_id}-paypal-eur.csv"

    row = operator.locator("tr", has_text=a.affiliate.name)
    row.get_by_role("button", name="Mark paid").click()
    operator.locator("tr", has_text=a.affiliate.name).locator(".badge.status-paid").wait_for()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
