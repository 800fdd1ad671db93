"""The affiliate's whole journey in a real browser: sign up, get approved, apply, build a link, the link is
clicked, the merchant posts the sale, and the commission shows in the partner portal."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from commissions.models import Commission
from commissions.services import commission_approve
from network.models import Affiliate, PartyStatus
from programs.models import Partnership, TrackingLink
from tests.commissions.helpers import convert
from tests.factories import make_program
from tracking import click_queue
from tracking.ids import new_click_id
from tracking.models import Click, ClickRollup

from .conftest import PASSWORD, link_in, log_in, with_password

pytestmark = pytest.mark.browser
DESKTOP_CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
                  "Safari/537.36")


def populate_history(tenant, link) -> None:
    """Thirty days of clicks and a few sales before today, so the overview's chart and cards have a history."""
    now = timezone.now()
    for days_ago in range(1, 30):
        hour = (now - timedelta(days=days_ago)).replace(minute=0, second=0, microsecond=0)
        clicks = 20 + (days_ago * 7) % 35
        ClickRollup.objects.create(network=tenant.network, hour=hour, program_id=link.program_id,
                                   affiliate_id=link.affiliate_id, sub1="review", clicks=clicks,
                                   unique_clicks=clicks - 3)
    for n, (days_ago, amount) in enumerate([(27, "120.00"), (21, "64.50"), (16, "210.00"), (12, "89.90"),
                                            (8, "150.00"), (5, "45.00"), (2, "310.00")]):
        _, commissions = convert(tenant, link, f"HIST-{n}", amount)
        Commission.objects.filter(pk__in=[c.pk for c in commissions]).update(
            created_at=now - timedelta(days=days_ago))
        if days_ago > 10:
            commission_approve(network=tenant.network, commission=commissions[0])


@pytest.fixture
def click_stream(settings):
    """With a click queue (REDIS_URL), this test's own stream, drained as the ingester would; else nothing."""
    if not click_queue.queue_configured():
        yield
        return
    settings.CLICK_STREAM = f"test:clicks:{new_click_id()}"
    click_queue.reset_breakers()
    yield
    click_queue.client().delete(settings.CLICK_STREAM)


def test_affiliate_signs_up_applies_builds_a_link_and_sees_the_sale_it_brought(world, new_page, browser, live_server,
                                                                               screenshot_dir, click_stream):
    with_password(world.a.owner.user)
    program = make_program(world.a.advertiser, name="Trail Tents", landing_url=f"{live_server.url}/healthz",
                           allowed_domains=[], approval="auto", fraud_policy="record",
                           description="Ultralight tents: 10 % of every sale.")

    # Sign up on the join page, verify the e-mail address; the operator approves the account.
    partner = new_page()
    partner.goto("/n/alpha/join")
    partner.fill("input[name=name]", "Summit Stories")
    partner.fill("input[name=email]", "summit@stories.test")
    partner.fill("input[name=password1]", PASSWORD)
    partner.fill("input[name=password2]", PASSWORD)
    partner.click("main button[type=submit]")
    partner.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    [message] = [m for m in mail.outbox if m.to == ["summit@stories.test"]]
    partner.goto(link_in(message.body))
    partner.click("main button[type=submit]")
    partner.wait_for_url(re.compile(r"/partner/$"))
    operator = new_page()
    log_in(operator, "owner@alpha.test")
    operator.goto("/operator/affiliates/?status=pending")
    operator.locator("tr", has_text="Summit Stories").get_by_role("button", name="Approve").click()
    operator.locator("tr", has_text="Summit Stories").get_by_role("button", name="Suspend").wait_for()
    affiliate = Affiliate.objects.get(email="summit@stories.test")
    assert affiliate.status == PartyStatus.ACTIVE

    # Apply in the marketplace (automatic approval), then build a link with a sub ID.
    partner.goto("/partner/marketplace/?q=tents")
    row = partner.locator("tr", has_text="Trail Tents")
    assert "10 % per sale" in row.inner_text()
    row.get_by_role("button", name="Apply").click()
    row.get_by_role("link", name="Build a link").click()
    partner.wait_for_url(re.compile(r"/partner/links/\?program="))
    assert Partnership.objects.get(affiliate=affiliate, program=program).status == "approved"
    partner.locator("summary", has_text="Sub IDs").click()
    partner.fill("input[name=sub1]", "review")
    partner.get_by_role("button", name="Create link").click()
    partner.get_by_text("Link created:").wait_for()
    # The approval made the program's default link; the builder made the one with the sub ID, listed first.
    default, link = TrackingLink.objects.filter(affiliate=affiliate).order_by("pk")
    assert (default.sub1, link.sub1) == ("", "review")
    tracking_url = partner.locator("code.tracking-url").first.inner_text()
    assert tracking_url.endswith(f"/c/{link.code}")
    copy = partner.locator(f'button[data-copy="{tracking_url}"]')
    copy.click()
    expect(copy).to_have_attribute("data-copied", "true")  # set when the clipboard's promise resolves

    # A visitor clicks the link: redirected to the landing page with the click id, the click is recorded.
    visitor = browser.new_context(base_url=live_server.url, user_agent=DESKTOP_CHROME).new_page()
    try:
        visitor.goto(f"/c/{link.code}")
        landed = urlsplit(visitor.url)
        assert landed.path == "/healthz"
        click_id = parse_qs(landed.query)["click_id"][0]
        assert parse_qs(landed.query)["sub1"] == ["review"]
    finally:
        visitor.context.close()
    click_queue.drain()  # the ingester's work when clicks go through the queue (the embedded default wrote it already)
    click = Click.objects.get(click_id=click_id)
    assert (click.link_id, click.sub1, click.is_bot) == (link.pk, "review", False)

    # The merchant's server reports the sale with the click id.
    response = requests.post(f"{live_server.url}/api/v1/conversions", timeout=10,
                             # No keep-alive: the live server's request thread ends (and closes its database
                             # connection) with this request, so the test database can be dropped afterwards.
                             headers={"Authorization": f"Bearer {world.a.advertiser_key}", "Connection": "close"},
                             json={"order_id": "ORDER-7781", "amount": "80.00", "currency": "EUR",
                                   "click_id": click_id})
    assert response.status_code == 201, response.text
    commission = Commission.objects.get(affiliate=affiliate)
    assert (commission.amount, commission.status) == (Decimal("8.00"), "pending")

    # The affiliate sees it in the portal.
    partner.locator(".sidenav").get_by_role("link", name="Commissions").click()
    row = partner.locator("[data-testid=commissions] tr", has_text="ORDER-7781")
    assert "€8.00" in row.inner_text() and "Pending" in row.inner_text()
    partner.locator(".sidenav").get_by_role("link", name="Overview").click()
    assert partner.get_by_test_id("kpi-conversions").inner_text() == "1"
    assert partner.get_by_test_id("kpi-clicks").inner_text() == "1"

    populate_history(world.a, link)
    partner.reload()
    partner.locator("canvas[data-chart-ready=true]").wait_for()
    partner.screenshot(path=str(screenshot_dir / "partner.png"), full_page=True)
