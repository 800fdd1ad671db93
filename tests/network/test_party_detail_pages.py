"""The operator's page of one affiliate and one advertiser: profile, programs, group, statistics with currency,
paged commissions, payouts, referrals and audit entries; linked from the operator's lists; another network's party
answers 404, a party 403, a visitor the login page."""

from decimal import Decimal

import pytest
from django.test import Client

from network.models import AuditLog
from network.services import audit_log_record
from payouts.models import Payout, PayoutBatch
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_affiliate, make_group
from tests.reports.conftest import at, rollup

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(world):
    """Network a's affiliate with a program, clicks, two sales (EUR), a payout, a referral, a group and audit."""
    a = world.a
    program, link = program_with_link(a, name="Outdoor Gear",
                                      rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10")}])
    rollup(program, a.affiliate, at(10, 9), 40, 30)
    convert(a, link, "ORD-1", "100.00")
    convert(a, link, "ORD-2", "250.00")
    group = make_group(a.network, "Gold partners", a.affiliate)
    referred, _ = make_affiliate(a.network, "Referred Rita", "rita@alpha.test", referred_by=a.affiliate)
    batch = PayoutBatch.objects.create(network=a.network)
    payout = Payout.objects.create(network=a.network, batch=batch, affiliate=a.affiliate, currency="EUR",
                                   amount=Decimal("35.00"), net=Decimal("35.00"), method_kind="paypal",
                                   status="paid")
    audit_log_record(network=a.network, actor=a.owner.user,
                     action="affiliate.status_changed", target=a.affiliate, data={"status": "active"})
    return {"program": program, "group": group, "referred": referred, "payout": payout, "batch": batch}


def test_the_affiliate_page_shows_everything_about_them(world, web, busy):
    affiliate = world.a.affiliate
    response = web("a", "owner").get(f"/operator/affiliates/{affiliate.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert affiliate.name in page and affiliate.email in page
    programs = page[page.index('data-testid="party-programs"'):]
    assert "Outdoor Gear" in programs and f"/operator/advertisers/{world.a.advertiser.pk}/" in programs
    assert "Gold partners" in page and f"?group={busy['group'].pk}" in page
    stats = page[page.index('data-testid="party-statistics"'):page.index('id="money"')]
    assert ">40<" in stats and ">30<" in stats and ">2<" in stats  # clicks, unique clicks, conversions
    money = page[page.index('data-testid="party-money"'):]
    assert "€350.00" in money and "€35.00" in money  # sales, payout (10 %)
    commissions = page[page.index('data-testid="party-commissions"'):]
    assert "€10.00" in commissions and "€25.00" in commissions and "/operator/commissions/" in commissions
    payouts = page[page.index('data-testid="party-payouts"'):]
    assert f"/operator/payouts/batches/{busy['batch'].pk}/" in payouts and "€35.00" in payouts
    referrals = page[page.index('data-testid="party-referrals"'):]
    assert "Referred Rita" in referrals and f"/operator/affiliates/{busy['referred'].pk}/" in referrals
    audit = page[page.index('data-testid="party-audit"'):]
    assert "affiliate.status_changed" in audit
    assert "Bravo" not in page


def test_the_referred_affiliate_links_back_to_who_referred_them(world, web, busy):
    page = web("a", "staff").get(f"/operator/affiliates/{busy['referred'].pk}/").content.decode()
    profile = page[page.index('data-testid="party-profile"'):]
    assert f'href="/operator/affiliates/{world.a.affiliate.pk}/"' in profile
    assert "Nobody joined through their referral link yet." in page and "No commission yet." in page


def test_the_advertiser_page_shows_programs_statistics_commissions_and_audit(world, web, busy):
    advertiser = world.a.advertiser
    audit_log_record(network=world.a.network, actor=None, action="program.updated", target=busy["program"])
    response = web("a", "owner").get(f"/operator/advertisers/{advertiser.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert advertiser.name in page and advertiser.email in page
    programs = page[page.index('data-testid="party-programs"'):]
    assert "Outdoor Gear" in programs and "EUR" in programs
    money = page[page.index('data-testid="party-money"'):]
    assert "€350.00" in money
    commissions = page[page.index('data-testid="party-commissions"'):]
    assert f"/operator/affiliates/{world.a.affiliate.pk}/" in commissions and "€25.00" in commissions
    assert "program.updated" in page[page.index('data-testid="party-audit"'):]


def test_commissions_are_paged(world, web, settings):
    program, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "fixed", "payout": Decimal("1")}])
    for n in range(52):
        convert(world.a, link, f"P-{n}", "10.00")
    client = web("a", "owner")
    first = client.get(f"/operator/affiliates/{world.a.affiliate.pk}/").content.decode()
    assert "Page 1 of 2" in first
    second = client.get(f"/operator/affiliates/{world.a.affiliate.pk}/?page=2").content.decode()
    table = second[second.index('data-testid="party-commissions"'):second.index('id="payouts"')]
    assert "Page 2 of 2" in table and table.count("/operator/commissions/") == 2


def test_another_networks_party_answers_404(world, web):
    client = web("a", "owner")
    assert client.get(f"/operator/affiliates/{world.b.affiliate.pk}/").status_code == 404
    assert client.get(f"/operator/advertisers/{world.b.advertiser.pk}/").status_code == 404
    assert client.get("/operator/affiliates/999999999999999999/").status_code == 404
    assert client.get("/operator/affiliates/9999999999999999999/").status_code == 404  # too long: no route


@pytest.mark.parametrize("role", ["advertiser", "affiliate"])
def test_parties_may_not_open_the_pages(world, web, role):
    client = web("a", role)
    assert client.get(f"/operator/affiliates/{world.a.affiliate.pk}/").status_code == 403
    assert client.get(f"/operator/advertisers/{world.a.advertiser.pk}/").status_code == 403


def test_visitors_are_sent_to_log_in(world):
    response = Client().get(f"/operator/affiliates/{world.a.affiliate.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_operator_lists_link_each_party_page(world, web, busy):
    client = web("a", "owner")
    affiliate, advertiser = world.a.affiliate, world.a.advertiser
    assert f'href="/operator/affiliates/{affiliate.pk}/"' in client.get("/operator/affiliates/").content.decode()
    assert f'href="/operator/advertisers/{advertiser.pk}/"' in client.get("/operator/advertisers/").content.decode()
    payouts = client.get("/operator/payouts/").content.decode()
    assert f'href="/operator/affiliates/{affiliate.pk}/"' in payouts
    batch = client.get(f"/operator/payouts/batches/{busy['batch'].pk}/").content.decode()
    assert f'href="/operator/affiliates/{affiliate.pk}/"' in batch
    from commissions.models import Commission

    commission = Commission.objects.filter(affiliate=affiliate).first()
    detail = client.get(f"/operator/commissions/{commission.pk}/").content.decode()
    assert f'href="/operator/affiliates/{affiliate.pk}/"' in detail
    assert f'href="/operator/advertisers/{advertiser.pk}/"' in detail


def test_a_pending_affiliate_on_the_overview_links_its_page(world, web):
    pending, _ = make_affiliate(world.a.network, "Waiting Walter", "walter@alpha.test")
    type(pending).objects.filter(pk=pending.pk).update(status="pending")
    page = web("a", "owner").get("/operator/").content.decode()
    assert f'href="/operator/affiliates/{pending.pk}/"' in page


def test_audit_entries_about_another_party_stay_off_the_page(world, web, busy):
    audit_log_record(network=world.a.network, actor=None, action="affiliate.other_thing", target=busy["referred"])
    assert AuditLog.objects.filter(action="affiliate.other_thing").exists()
    page = web("a", "owner").get(f"/operator/affiliates/{world.a.affiliate.pk}/").content.decode()
    assert "affiliate.other_thing" not in page


def test_the_operators_report_by_affiliate_links_each_affiliate_page(world, web, busy):
    url = "/operator/reports/?group_by=affiliate&date_from=2026-11-01&date_to=2026-11-30"
    page = web("a", "owner").get(url).content.decode()
    assert f'<a href="/operator/affiliates/{world.a.affiliate.pk}/">{world.a.affiliate.name}</a>' in page
    advertiser_page = web("a", "advertiser").get(url.replace("/operator/", "/advertiser/")).content.decode()
    assert "/operator/affiliates/" not in advertiser_page


def test_the_audit_log_links_the_affiliates_and_advertisers_it_names(world, web, busy):
    audit_log_record(network=world.a.network, actor=None, action="advertiser.updated", target=world.a.advertiser)
    page = web("a", "owner").get("/operator/audit/").content.decode()
    assert f'href="/operator/affiliates/{world.a.affiliate.pk}/"' in page
    assert f'href="/operator/advertisers/{world.a.advertiser.pk}/"' in page
