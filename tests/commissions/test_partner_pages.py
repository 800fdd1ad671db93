"""Partner overview (KPIs from rollups and the ledger, chart JSON) and the commissions page (filters, balances)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from commissions.services import commission_approve
from tests.commissions.helpers import convert, program_with_link
from tests.factories import days_rebuilt
from tracking.models import ClickRollup


def _rollup(tenant, link, clicks, hours_ago):
    hour = (timezone.now() - timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
    ClickRollup.objects.create(network=tenant.network, hour=hour, program_id=link.program_id,
                               affiliate_id=link.affiliate_id, clicks=clicks, unique_clicks=clicks - 1)
    days_rebuilt(tenant.network)  # written around the ingester


@pytest.fixture
def earnings(world):
    """Affiliate a: clicks in and out of the 30 days, two EUR sales (one approved) and a USD sale; affiliate2 too."""
    a = world.a
    _, link = program_with_link(a)
    _, usd_link = program_with_link(a, currency="USD")
    _rollup(a, link, 40, hours_ago=2)
    _rollup(a, link, 7, hours_ago=24 * 3)
    _rollup(a, link, 1000, hours_ago=24 * 45)  # older than 30 days
    _, [first] = convert(a, link, "A-1", "100.00")  # 10 % -> 10.00
    convert(a, link, "A-2", "55.50")  # 5.55 pending
    convert(a, usd_link, "U-1", "20.00")  # 2.00 USD
    commission_approve(network=a.network, commission=first)
    _, neighbour_link = program_with_link(a, affiliate=a.affiliate2)
    _rollup(a, neighbour_link, 500, hours_ago=1)
    convert(a, neighbour_link, "N-1", "999.00")
    return link


def test_partner_pages_answer_the_affiliate_only(web):
    for url in ("/partner/", "/partner/charts/performance.json", "/partner/commissions/"):
        assert web("a", "affiliate").get(url).status_code == 200
        assert web("a", "advertiser").get(url).status_code == 403
        assert web("a", "staff").get(url).status_code == 403
        assert Client().get(url).status_code == 302


def test_overview_kpis_count_own_clicks_conversions_and_balances_per_currency(web, earnings):
    response = web("a", "affiliate").get("/partner/")
    assert response.context["clicks"] == 47 and response.context["unique_clicks"] == 45
    assert response.context["conversions"] == 3
    balances = {b["currency"]: b for b in response.context["balances"]}
    assert str(balances["EUR"]["pending"]) == "5.55" and str(balances["EUR"]["approved"]) == "10.00"
    assert str(balances["USD"]["pending"]) == "2.00"
    page = response.content.decode()
    assert 'data-testid="kpi-clicks">47<' in page and "€10.00" in page and "$2.00" in page
    assert "data-performance-url" in page and "No announcement yet" in page


def test_overview_without_money_says_how_to_start(web):
    page = web("a", "affiliate").get("/partner/").content.decode()
    assert 'data-testid="kpi-clicks">0<' in page and "Join a program to start earning" in page


def test_performance_chart_has_clicks_and_earnings_per_day_in_the_networks_time_zone(world, web, earnings):
    world.a.network.timezone = "Pacific/Kiritimati"  # UTC+14: "today" is a different date than in UTC
    world.a.network.save()
    days_rebuilt(world.a.network)  # what the settings page queues when the zone changes
    data = web("a", "affiliate").get("/partner/charts/performance.json").json()
    assert data["timezone"] == "Pacific/Kiritimati" and len(data["labels"]) == 30
    from zoneinfo import ZoneInfo

    assert data["labels"][-1] == timezone.now().astimezone(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    assert sum(data["clicks"]) == 47
    series = {s["currency"]: s["data"] for s in data["earnings"]}
    assert set(series) == {"EUR", "USD"}
    assert series["EUR"][-1] == "15.55" and series["USD"][-1] == "2.00"
    assert all(isinstance(value, str) for value in series["EUR"])


def test_commissions_list_shows_own_commissions_with_filters_and_balances(world, web, earnings):
    client = web("a", "affiliate")
    page = client.get("/partner/commissions/").content.decode()
    assert "A-1" in page and "A-2" in page and "U-1" in page and "N-1" not in page
    assert 'data-testid="balances"' in page and "€5.55" in page and "€10.00" in page
    approved = client.get("/partner/commissions/?status=approved").content.decode()
    assert "A-1" in approved and "A-2" not in approved
    program = client.get(f"/partner/commissions/?program={earnings.program_id}").content.decode()
    assert "A-1" in program and "U-1" not in program
    tomorrow = (timezone.now() + timedelta(days=2)).date().isoformat()
    assert "No commission matches" in client.get(f"/partner/commissions/?date_from={tomorrow}").content.decode()
    today = timezone.now().date().isoformat()
    assert "A-1" in client.get(f"/partner/commissions/?date_from={today}&date_to={today}").content.decode()


def test_commission_filters_with_bad_values_show_errors_not_a_500(web, earnings):
    response = web("a", "affiliate").get("/partner/commissions/?status=bogus&date_from=yesterday")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page and "Enter a valid date." in page and "A-1" not in page


def test_affiliate_cannot_widen_the_list_to_another_affiliate(world, web, earnings):
    page = web("a", "affiliate").get(f"/partner/commissions/?affiliate={world.a.affiliate2.pk}").content.decode()
    assert "N-1" not in page and "A-1" in page


def test_a_referral_commission_does_not_show_the_referred_partners_order_or_sub_id(world, web):
    from decimal import Decimal

    from commissions.models import Commission

    referred = world.a.affiliate2
    referred.referred_by = world.a.affiliate
    referred.save()
    _, link = program_with_link(world.a, affiliate=referred, second_tier_percent=Decimal("10"))
    _, commissions = convert(world.a, link, "SECRET-ORDER", "100.00")
    assert Commission.objects.filter(affiliate=world.a.affiliate, tier=2).count() == 1
    page = web("a", "affiliate").get("/partner/commissions/").content.decode()
    assert "A sale of a partner you referred" in page and "€1.00" in page
    assert "SECRET-ORDER" not in page and ">fb<" not in page


def test_commission_dates_are_shown_in_the_networks_time_zone(world, web, earnings):
    from commissions.models import Commission

    world.a.network.timezone = "Asia/Tokyo"
    world.a.network.save()
    commission = Commission.objects.filter(affiliate=world.a.affiliate).first()
    Commission.objects.filter(pk=commission.pk).update(created_at=datetime(2026, 3, 1, 20, 30, tzinfo=UTC))
    page = web("a", "affiliate").get("/partner/commissions/").content.decode()
    assert "Mar 2, 2026, 5:30\u202fAM" in page
