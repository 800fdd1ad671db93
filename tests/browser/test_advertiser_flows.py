"""The advertiser in a real browser: creates a program with a tiered rule, approves a pending commission,
and the overview (screenshot) shows its figures."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.models import Commission
from programs.models import Program
from tests.commissions.helpers import convert, program_with_link
from tracking.models import ClickRollup, Conversion

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


def populate_sales(tenant):
    """A program with a partner, a month of clicks and sales (some refunded, some approved), so the overview
    has real KPIs and charts; returns the link."""
    program, link = program_with_link(tenant, name="Trail Gear", rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("8")}])
    now = timezone.now()
    for n, days_ago in enumerate([0, 1, 1, 2, 3, 5, 5, 6, 8, 9, 11, 12, 14, 15, 15, 17, 19, 20, 22, 23, 25, 27]):
        hour = (now - timedelta(days=days_ago)).replace(minute=0, second=0, microsecond=0)
        ClickRollup.objects.create(network_id=link.network_id, hour=hour, program_id=link.program_id,
                                   affiliate_id=link.affiliate_id, sub1=f"s{n}", clicks=40 + 7 * (n % 5),
                                   unique_clicks=35 + 5 * (n % 5))
        conversion, commissions = convert(tenant, link, f"SO-{1000 + n}", f"{49 + 13 * (n % 7)}.90")
        Conversion.objects.filter(pk=conversion.pk).update(created_at=now - timedelta(days=days_ago, hours=n % 3))
        if days_ago > 14:
            from commissions.services import commission_approve

            commission_approve(network=tenant.network, commission=commissions[0], operator=True)
    return link


def test_advertiser_creates_a_tiered_program_and_approves_a_commission(world, new_page, screenshot_dir):
    with_password(world.a.advertiser.membership.user)
    link = populate_sales(world.a)
    _, [pending] = convert(world.a, link, "ORDER-77", "250.00")
    page = new_page()
    log_in(page, "shop@alpha.test")
    page.locator("canvas#chart-conversions[data-chart-ready=true]").wait_for()
    page.locator("canvas#chart-revenue[data-chart-ready=true]").wait_for()
    assert page.get_by_test_id("kpi-conversions").inner_text() == "23"
    page.screenshot(path=str(screenshot_dir / "advertiser.png"), full_page=True)

    page.locator(".sidenav").get_by_role("link", name="Programs").click()
    page.get_by_role("button", name="New program").click()
    page.fill("input[name=name]", "Camping Tents")
    page.fill("input[name=landing_url]", "https://tents.example.com/")
    page.fill("textarea[name=allowed_domains]", "*.tents.example.com")
    page.select_option("select[name='rules-0-kind']", "fixed")
    page.fill("input[name='rules-0-payout']", "5.00")
    page.fill("textarea[name='rules-0-tiers']", "10 7.50\n50 9")
    page.get_by_role("button", name="Create program").click()
    page.wait_for_url(re.compile(r"/advertiser/programs/\d+/$"))
    page.get_by_text("Program “Camping Tents” is created.").wait_for()
    assert "≥ 10: €7.50" in page.content()
    rule = Program.objects.get(name="Camping Tents").rules.get()
    assert rule.tiers == [{"min_conversions": 10, "payout": "7.50"}, {"min_conversions": 50, "payout": "9"}]

    page.locator(".sidenav").get_by_role("link", name="Commissions").click()
    row = page.locator(f"#commission-{pending.pk}")
    row.get_by_role("button", name="Approve").click()
    page.locator(f"#commission-{pending.pk}", has_text="Approved").wait_for()
    assert Commission.objects.get(pk=pending.pk).status == "approved"
