"""The link builder's figures (clicks, unique clicks, conversions, earnings, EPC per link and per sub ID, a
sparkline of the last 30 days) in a fixed number of queries; the default link made on approval (not by opening
the Creatives page); one program preselected."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.models import Partnership, TrackingLink
from programs.services import partnership_decide
from tests.commissions.helpers import convert
from tests.factories import days_rebuilt, make_click, make_link, make_partnership, make_program
from tracking.models import ClickRollup


@pytest.fixture
def partnership(world):
    program = make_program(world.a.advertiser, name="Outdoor Gear")
    return make_partnership(program, world.a.affiliate)


def test_approval_makes_the_default_link_and_creatives_make_none(world, web):
    auto = make_program(world.a.advertiser, name="Auto Program", approval="auto")
    manual = make_program(world.a.advertiser, name="Manual Program", approval="manual")
    client = web("a", "affiliate")
    assert client.post(f"/partner/marketplace/{auto.pk}/apply").status_code == 302
    assert client.post(f"/partner/marketplace/{manual.pk}/apply").status_code == 302
    plain = {"destination_url": "", "sub1": "", "archived": False}
    assert TrackingLink.objects.filter(program=auto, affiliate=world.a.affiliate, **plain).count() == 1
    assert not TrackingLink.objects.filter(program=manual).exists()  # pending: no link yet

    pending = Partnership.objects.get(program=manual, affiliate=world.a.affiliate)
    partnership_decide(network=world.a.network, partnership=pending, status="approved", actor=None)
    assert TrackingLink.objects.filter(program=manual, affiliate=world.a.affiliate, **plain).count() == 1

    before = TrackingLink.objects.count()
    make_partnership(make_program(world.a.advertiser, name="Old Partnership"), world.a.affiliate)  # no link
    assert client.get("/partner/creatives/").status_code == 200
    assert TrackingLink.objects.count() == before


def test_with_one_program_the_link_builder_preselects_it(world, web, partnership):
    form = web("a", "affiliate").get("/partner/links/").context["form"]
    assert form.initial["program"] == partnership
    make_partnership(make_program(world.a.advertiser, name="Second"), world.a.affiliate)
    form = web("a", "affiliate").get("/partner/links/").context["form"]
    assert "program" not in form.initial


def test_each_link_shows_its_clicks_conversions_earnings_and_epc(world, web, partnership):
    link = make_link(partnership, code="statslink1", sub1="news")
    quiet = make_link(partnership, code="quietlink1")
    neighbour = make_link(make_partnership(partnership.program, world.a.affiliate2), code="neighbour1")
    now = timezone.now()
    make_click(link, created_at=now)
    make_click(link, created_at=now - timedelta(days=2))
    make_click(link, created_at=now, is_unique=False)
    make_click(link, created_at=now, is_bot=True)
    make_click(link, created_at=now - timedelta(days=40))  # before the 30 days
    make_click(neighbour, created_at=now)
    convert(world.a, link, "ORDER-1", "120.00")  # 10 %: 12.00
    convert(world.a, link, "ORDER-2", "80.00")  # 8.00
    convert(world.a, neighbour, "ORDER-3", "500.00")

    response = web("a", "affiliate").get("/partner/links/")
    assert response.status_code == 200
    rows = {row[0].pk: row[2] for row in response.context["rows"]}
    assert set(rows) == {link.pk, quiet.pk}
    stats = rows[link.pk]
    assert (stats.clicks, stats.unique_clicks, stats.conversions) == (4, 2, 2)
    assert stats.earnings == Decimal("20.00") and stats.epc == Decimal("5.00")
    assert sum(stats.per_day) == 4 and len(stats.per_day) == 30 and stats.per_day[-1] == 3
    assert (rows[quiet.pk].clicks, rows[quiet.pk].earnings, rows[quiet.pk].epc) == (0, Decimal("0.00"), None)
    html = response.content.decode()
    assert f'data-testid="sparkline-{link.pk}"' in html and "<polyline" in html
    assert f'data-testid="earnings-{link.pk}">€20.00<' in html and f'data-testid="epc-{link.pk}">€5.00<' in html
    assert "neighbour1" not in html


def test_figures_per_sub_id(world, web, partnership):
    news = make_link(partnership, code="newslink01", sub1="news")
    header = make_link(partnership, code="headlink01", sub1="header")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    for link, clicks in ((news, 3), (header, 1)):  # the hourly rollups the ingester writes with the clicks
        ClickRollup.objects.create(network_id=link.network_id, hour=hour, program_id=link.program_id,
                                   affiliate_id=link.affiliate_id, sub1=link.sub1, clicks=clicks,
                                   unique_clicks=clicks)
    convert(world.a, news, "ORDER-N", "100.00", sub1="news")
    days_rebuilt(world.a.network)
    response = web("a", "affiliate").get("/partner/links/?by=sub1")
    table = response.context["sub_tables"][0]
    rows = {row["key"]: row for row in table["rows"]}
    assert table["currency"] == "EUR"
    assert (rows["news"]["clicks"], rows["news"]["conversions"], rows["news"]["payout"]) == (3, 1, "10.00")
    assert rows["news"]["epc"] == "3.33" and rows["header"]["clicks"] == 1
    assert b'data-testid="sub-ids-EUR"' in response.content
    # An unknown grouping falls back to sub1, never a 500.
    assert web("a", "affiliate").get("/partner/links/?by=evil").context["sub"] == "sub1"


def test_the_number_of_queries_does_not_grow_with_the_links(world, web, partnership):
    client = web("a", "affiliate")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/partner/links/").status_code == 200
        return len(captured)

    first = make_link(partnership, code="onlylink01")
    make_click(first)
    queries()  # the first request of a session does some one-off reads
    one = queries()
    for n in range(6):
        link = make_link(partnership, code=f"morelink{n:02d}")
        make_click(link)
        convert(world.a, link, f"ORDER-{n}", "10.00")
    assert queries() == one


def test_another_networks_program_is_not_preselected_nor_listed(world, web, partnership):
    foreign = make_partnership(make_program(world.b.advertiser, name="Bravo Program"), world.b.affiliate)
    make_link(foreign, code="bravolink1")
    response = web("a", "affiliate").get(f"/partner/links/?program={foreign.program_id}")
    assert response.status_code == 200
    assert response.context["form"].initial.get("program") is None
    assert b"bravolink1" not in response.content and b"Bravo Program" not in response.content
