"""What people do in a real browser: sign up and get approved; invite, announce and read it."""

import re

import pytest
from django.core import mail

from network.models import Affiliate, Announcement, PartyStatus

from .conftest import PASSWORD, link_in, log_in, with_password

pytestmark = pytest.mark.browser


def test_affiliate_signs_up_verifies_is_approved_and_sees_the_partner_overview(world, new_page):
    with_password(world.a.owner.user)
    visitor = new_page()
    visitor.goto("/n/alpha/join")
    visitor.fill("input[name=name]", "Sunny Reviews")
    visitor.fill("input[name=email]", "sunny@reviews.test")
    visitor.fill("input[name=password1]", PASSWORD)
    visitor.fill("input[name=password2]", PASSWORD)
    visitor.click("main button[type=submit]")
    visitor.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    assert "Verify Your Email Address" in visitor.content()
    assert Affiliate.objects.get(email="sunny@reviews.test").status == PartyStatus.PENDING

    [message] = [m for m in mail.outbox if m.to == ["sunny@reviews.test"]]
    visitor.goto(link_in(message.body))
    visitor.click("main button[type=submit]")
    visitor.wait_for_url(re.compile(r"/partner/$"))
    assert visitor.get_by_test_id("pending").is_visible()

    operator = new_page()
    log_in(operator, "owner@alpha.test")
    operator.goto("/operator/affiliates/?status=pending")
    row = operator.locator("tr", has_text="Sunny Reviews")
    row.get_by_role("button", name="Approve").click()
    operator.locator("tr", has_text="Sunny Reviews").get_by_role("button", name="Suspend").wait_for()
    assert Affiliate.objects.get(email="sunny@reviews.test").status == PartyStatus.ACTIVE

    returning = new_page()
    log_in(returning, "sunny@reviews.test")
    assert returning.get_by_test_id("approved").is_visible()
    context = returning.get_by_test_id("context").inner_text()
    assert "Alpha Network" in context and "Affiliate" in context


def populate_recent_sign_ups(network) -> None:
    """Affiliates who joined over the last days (some waiting), so the overview has a real chart and queue."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_affiliate

    for n, days_ago in enumerate([1, 2, 2, 4, 6, 6, 6, 9, 12, 15, 15, 20]):
        affiliate, _ = make_affiliate(network, f"Publisher {n + 1}", f"publisher{n + 1}@example.test")
        status = PartyStatus.PENDING if days_ago < 3 else PartyStatus.ACTIVE
        Affiliate.objects.filter(pk=affiliate.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago), status=status)


def test_operator_invites_an_advertiser_and_announces_to_affiliates(world, new_page, screenshot_dir):
    with_password(world.a.owner.user)
    populate_recent_sign_ups(world.a.network)
    with_password(world.a.affiliate.membership.user)
    operator = new_page()
    log_in(operator, "owner@alpha.test")
    operator.locator("#chart-new-affiliates[data-chart-ready=true]").wait_for()
    assert operator.locator("tr", has_text="Publisher 1").is_visible()  # waiting for approval
    operator.screenshot(path=str(screenshot_dir / "operator.png"), full_page=True)

    operator.locator(".sidenav").get_by_role("link", name="Advertisers").click()
    operator.fill("input[name=name]", "Gear Shop")
    operator.fill("input[name=email]", "gear@shop.test")
    operator.get_by_role("button", name="Send invitation").click()
    operator.get_by_text("Invited Gear Shop").wait_for()
    assert "Gear Shop" in operator.locator("table").inner_text()

    operator.locator(".sidenav").get_by_role("link", name="Announcements").click()
    operator.select_option("select[name=audience]", "affiliates")
    operator.fill("input[name=title]", "Double commissions in May")
    operator.fill("textarea[name=body]", "Every sale in May pays twice the usual rate.")
    operator.get_by_role("button", name="Publish").click()
    operator.get_by_text("Announcement published.").wait_for()
    assert Announcement.objects.get().audience == "affiliates"

    [invitation] = mail.outbox
    advertiser = new_page()
    advertiser.goto(link_in(invitation.body))
    advertiser.fill("input[name=new_password1]", PASSWORD)
    advertiser.fill("input[name=new_password2]", PASSWORD)
    advertiser.click("main button[type=submit]")
    advertiser.wait_for_url(re.compile(r"/advertiser/$"))
    assert "Gear Shop" in advertiser.locator("h1").inner_text()
    assert "Double commissions" not in advertiser.content()  # affiliates only
    advertiser.screenshot(path=str(screenshot_dir / "advertiser-invited.png"), full_page=True)

    partner = new_page()
    log_in(partner, "blog@alpha.test")
    assert partner.get_by_text("Double commissions in May").is_visible()
    partner.screenshot(path=str(screenshot_dir / "partner.png"), full_page=True)


def test_operator_in_two_networks_switches_between_them(world, new_page):
    from network.models import Membership, Role

    with_password(world.a.owner.user)
    Membership.objects.create(network=world.b.network, user=world.a.owner.user, role=Role.STAFF)
    page = new_page()
    log_in(page, "owner@alpha.test")
    assert "Alpha Network" in page.get_by_test_id("context").inner_text()
    page.select_option("select[name=network]", str(world.b.network.pk))
    page.wait_for_url(re.compile(r"/operator/$"))
    page.get_by_text("You are now in Bravo Network as Staff.").wait_for()
    assert "Bravo Network" in page.get_by_test_id("context").inner_text()
    assert "Bravo Blog" in page.goto(page.url + "affiliates/").text()
