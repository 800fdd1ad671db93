"""Advertiser overview (KPIs, daily chart), partners (applications, figures, suspend) and commissions
(filters, approve/reject one and many, held ones left to operators); 404s across advertisers and networks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.models import Commission
from commissions.services import commission_hold
from programs.models import Partnership
from tests.commissions.helpers import convert, program_with_link
from tests.factories import days_rebuilt, make_affiliate, make_conversion, make_partnership
from tests.pages import make_shop, sale
from tracking.models import ClickRollup, Conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    return make_shop(world)


def rollup(link, clicks, hours_ago=2):
    hour = (timezone.now() - timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
    row = ClickRollup.objects.create(network_id=link.network_id, hour=hour, program_id=link.program_id,
                                     affiliate_id=link.affiliate_id, clicks=clicks, unique_clicks=clicks)
    days_rebuilt(link.network_id)  # written around the ingester
    return row


# --- overview ---------------------------------------------------------------------------------------
def test_overview_kpis_count_only_the_advertisers_own_programs(world, web, shop):
    rollup(shop.link, 120)
    rollup(shop.link, 1000, hours_ago=24 * 40)  # older than 30 days
    _, first = sale(world, shop, "A-1", "200.00")
    sale(world, shop, "A-2", "50.00")
    from commissions.services import commission_approve

    commission_approve(network=world.a.network, commission=first, actor=None)
    _, rival_link = program_with_link(world.a, name="Rival P")
    Partnership.objects.filter(pk=rival_link.partnership_id).update(program=shop.rival_program)
    rival_link.program = shop.rival_program
    rival_link.save()
    make_conversion(shop.rival, order_id="R-1", amount="999.00")
    make_conversion(world.a.advertiser, order_id="U-1", amount="10.00")  # unattributed
    page = web("a", "advertiser").get("/advertiser/").content.decode()
    assert 'data-testid="kpi-clicks">120<' in page
    assert 'data-testid="kpi-conversions">3<' in page
    assert 'data-testid="kpi-revenue">€260.00<' in page
    assert 'data-testid="kpi-pending">€5.00<' in page and 'data-testid="kpi-approved">€20.00<' in page
    assert "A-1" in page and "R-1" not in page and "unattributed" in page
    assert 'data-chart-url="/advertiser/charts/daily.json?series=conversions"' in page
    assert "Get started" in page  # the network app's overview underneath


def test_daily_chart_json_in_the_networks_time_zone(world, web, shop):
    world.a.network.timezone = "Pacific/Auckland"
    world.a.network.save()
    conversion, _ = sale(world, shop, "A-1", "40.00")
    sale(world, shop, "A-2", "2.50")
    Conversion.objects.filter(pk=conversion.pk).update(created_at=timezone.now() - timedelta(days=3))
    days_rebuilt(world.a.network)  # back-dated around the services
    make_conversion(shop.rival, order_id="R-1", amount="999.00")
    client = web("a", "advertiser")
    body = client.get("/advertiser/charts/daily.json?series=conversions").json()
    assert body["timezone"] == "Pacific/Auckland" and len(body["labels"]) == 30 and sum(body["data"]) == 2
    from zoneinfo import ZoneInfo

    today = timezone.now().astimezone(ZoneInfo("Pacific/Auckland")).date()
    assert body["labels"][-1] == today.isoformat() and body["data"][-1] == 1 and body["data"][-4] == 1
    revenue = client.get("/advertiser/charts/daily.json?series=revenue").json()
    assert revenue["label"] == "Sales (EUR)" and revenue["data"][-1] == "2.50" and revenue["data"][-4] == "40.00"
    assert web("a", "affiliate").get("/advertiser/charts/daily.json").status_code == 403


def test_overview_cards_count_the_same_local_days_as_the_chart(world, web, shop):
    """The cards once counted a rolling 30 x 24 hours while the chart beside them showed 30 local days."""
    from core.days import local_day_bounds, local_today

    world.a.network.timezone = "Asia/Kolkata"
    world.a.network.save()
    start, _ = local_day_bounds(local_today("Asia/Kolkata") - timedelta(days=29), tz="Asia/Kolkata")
    inside, _ = sale(world, shop, "IN-1", "10.00")
    outside, _ = sale(world, shop, "OUT-1", "20.00")
    Conversion.objects.filter(pk=inside.pk).update(created_at=start)
    Conversion.objects.filter(pk=outside.pk).update(created_at=start - timedelta(minutes=1))
    days_rebuilt(world.a.network)  # back-dated around the services
    client = web("a", "advertiser")
    page = client.get("/advertiser/").content.decode()
    assert 'data-testid="kpi-conversions">1<' in page and 'data-testid="kpi-revenue">€10.00<' in page
    chart = client.get("/advertiser/charts/daily.json?series=conversions").json()
    assert chart["data"][0] == 1 and sum(chart["data"]) == 1


# --- partners ---------------------------------------------------------------------------------------
def test_partners_page_shows_figures_and_applications(world, web, shop):
    rollup(shop.link, 77)
    sale(world, shop, "A-1", "100.00")
    newcomer, _ = make_affiliate(world.a.network, "Newcomer Blog", "new@alpha.test")
    make_partnership(shop.program, newcomer, status="pending")
    make_partnership(shop.rival_program, world.a.affiliate2, status="pending")
    page = web("a", "advertiser").get("/advertiser/partners/").content.decode()
    applications = page[page.index('data-testid="applications"'):page.index('data-testid="partners"')]
    assert "Newcomer Blog" in applications and "Alpha Deals" not in applications
    partners = page[page.index('data-testid="partners"'):]
    assert "Alpha Blog" in partners and "<td>77</td>" in partners and "€10.00" in partners


def test_partners_empty_states(world, web):
    page = web("a", "advertiser").get("/advertiser/partners/").content.decode()
    assert "No application is waiting" in page and "No partner yet" in page


def test_approve_and_reject_applications_with_htmx(world, web, shop):
    first = make_partnership(shop.program, world.a.affiliate2, status="pending")
    newcomer, _ = make_affiliate(world.a.network, "Newcomer Blog", "new@alpha.test")
    second = make_partnership(shop.program, newcomer, status="pending")
    client = web("a", "advertiser")
    response = client.post(f"/advertiser/partnerships/{first.pk}/approve", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Approved" in response.content.decode()
    assert response.content.decode().lstrip().startswith(f'<tr id="partnership-{first.pk}"')
    assert Partnership.objects.get(pk=first.pk).status == "approved"
    response = client.post(f"/advertiser/partnerships/{second.pk}/reject", HTTP_HX_REQUEST="true")
    assert Partnership.objects.get(pk=second.pk).status == "rejected"
    response = client.post(f"/advertiser/partnerships/{second.pk}/approve", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "only a pending partnership can be approved" in response.content.decode()
    assert Partnership.objects.get(pk=second.pk).status == "rejected"


def test_suspend_a_partner_and_404_for_others_partnerships(world, web, shop):
    client = web("a", "advertiser")
    response = client.post(f"/advertiser/partnerships/{shop.link.partnership_id}/suspend",
                           {"next": "//evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/advertiser/partners/"
    assert Partnership.objects.get(pk=shop.link.partnership_id).status == "suspended"
    rival = make_partnership(shop.rival_program, world.a.affiliate2, status="pending")
    other = make_partnership(shop.other_program, world.b.affiliate, status="pending")
    for partnership in (rival, other):
        assert client.post(f"/advertiser/partnerships/{partnership.pk}/approve").status_code == 404
        assert Partnership.objects.get(pk=partnership.pk).status == "pending"


# --- commissions ------------------------------------------------------------------------------------
def test_commission_list_filters(world, web, shop):
    _, first = sale(world, shop, "A-1", "100.00")
    _, second = sale(world, shop, "A-2", "30.00")
    Commission.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(days=10))
    client = web("a", "advertiser")
    page = client.get("/advertiser/commissions/").content.decode()
    assert "A-1" in page and "A-2" in page
    day = (timezone.now() - timedelta(days=10)).date().isoformat()
    page = client.get(f"/advertiser/commissions/?date_from={day}&date_to={day}").content.decode()
    assert "A-2" in page and "A-1" not in page
    page = client.get(f"/advertiser/commissions/?status=approved&program={shop.program.pk}").content.decode()
    assert "No commission matches" in page
    page = client.get(f"/advertiser/commissions/?affiliate={world.a.affiliate.pk}&date_from=nope").content.decode()
    assert "Use a date like" in page and "A-1" in page


def test_approve_and_reject_one_with_htmx(world, web, shop):
    _, first = sale(world, shop, "A-1")
    _, second = sale(world, shop, "A-2")
    client = web("a", "advertiser")
    response = client.post(f"/advertiser/commissions/{first.pk}/approve", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Approved" in response.content.decode()
    assert Commission.objects.get(pk=first.pk).status == "approved"
    client.post(f"/advertiser/commissions/{second.pk}/reject", {"reason": "Test order"})
    assert Commission.objects.get(pk=second.pk).status == "rejected"
    response = client.post(f"/advertiser/commissions/{second.pk}/approve", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "is rejected; it cannot be approved" in response.content.decode()


def test_bulk_approve_decides_each_and_refuses_held_ones(world, web, shop):
    _, first = sale(world, shop, "A-1")
    _, second = sale(world, shop, "A-2")
    conversion, held = sale(world, shop, "A-3")
    Conversion.objects.filter(pk=conversion.pk).update(fraud_signals=["too_fast"], status="held")
    commission_hold(network=world.a.network, commission=held, reason="Too fast")
    client = web("a", "advertiser")
    page = client.get("/advertiser/commissions/?status=on_hold").content.decode()
    assert "too_fast" in page and "Only the network's operators decide it." in page
    assert "The conversion came very soon after its click." in page
    assert f'/advertiser/commissions/{held.pk}/approve' not in page
    response = client.post("/advertiser/commissions/bulk", {"action": "approve",
                                                             "ids": [first.pk, second.pk, held.pk]}, follow=True)
    page = response.content.decode()
    assert "2 commissions approved." in page and "Only network operators may decide" in page
    statuses = dict(Commission.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk], statuses[held.pk]) == ("approved", "approved", "on_hold")


def test_other_advertisers_and_networks_commissions_are_404(world, web, shop):
    _, rival_link = program_with_link(world.a, name="Rival P2", affiliate=world.a.affiliate2)
    rival_link.program.advertiser = shop.rival
    rival_link.program.save()
    rival_conversion = make_conversion(shop.rival, order_id="R-1", amount="100.00", link=rival_link)
    from commissions.services import commissions_for_conversion

    [rival_commission] = commissions_for_conversion(conversion_id=rival_conversion.pk)
    _, bravo_link = program_with_link(world.b)
    _, [bravo_commission] = convert(world.b, bravo_link, "B-1", "100.00")
    client = web("a", "advertiser")
    for commission in (rival_commission, bravo_commission):
        assert client.post(f"/advertiser/commissions/{commission.pk}/approve").status_code == 404
        assert Commission.objects.get(pk=commission.pk).status == "pending"
    client.post("/advertiser/commissions/bulk", {"action": "approve", "ids": [rival_commission.pk]})
    assert Commission.objects.get(pk=rival_commission.pk).status == "pending"
    assert "R-1" not in client.get("/advertiser/commissions/").content.decode()
    assert Decimal(rival_commission.amount) == Decimal("10.00")
