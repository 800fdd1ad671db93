"""The link builder's figures (clicks, unique clicks, conversions, earnings, EPC per link and per sub ID, a
sparkline of the last 30 days) in a fixed number of queries; the default link made on approval (not by opening
the Creatives page); one program preselected."""

import importlib
import io
import random
import re
import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.days import local_day_bounds
from network.models import Network
from programs.models import Partnership, TrackingLink
from programs.services import partnership_decide
from reports.links import DAYS, link_figures
from tests.commissions.helpers import convert
from tests.factories import days_rebuilt, make_click, make_link, make_partnership, make_program
from tests.tracking.clicks_support import record_for
from tracking import ingest
from tracking.ids import new_click_id
from tracking.link_rollups import link_rollups_rebuild
from tracking.models import Click, ClickRollup, LinkRollup


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


# --- the figures read the hourly link rollups the ingester writes, never the raw clicks -------------------------
BOT_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _ingest(links, *, seed=7, clicks=240, days=35):
    """Clicks through the real ingester: random links, visitors (some clicking twice within the duplicate window),
    bots and times over the last `days` days, around the network's local midnights."""
    rng = random.Random(seed)
    now = timezone.now()
    records = []
    for n in range(clicks):
        link = rng.choice(links)
        at = now - timedelta(days=rng.randrange(days), hours=rng.randrange(24), minutes=rng.randrange(60))
        agent = BOT_AGENT if n % 9 == 0 else "Mozilla/5.0 Firefox/140.0"
        visitor = f"v{rng.randrange(12)}"
        for repeat in range(1 + (n % 7 == 0)):  # a second click of the same visitor a minute later: a duplicate
            when = at + timedelta(minutes=repeat)
            click_id = new_click_id(int(when.timestamp() * 1000), entropy=rng.getrandbits(80))
            records.append(record_for(link, click_id, ip_hash=visitor, user_agent=agent))
    for start in range(0, len(records), 100):
        ingest.ingest_records(records[start : start + 100])
    return records


def _from_raw_clicks(network, links, days=DAYS):
    """What the link figures gave when they read the raw clicks: {link id: (clicks, unique, per day)}."""
    tz = zoneinfo.ZoneInfo(network.timezone)
    today = timezone.localtime(timezone=tz).date()
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    since, _ = local_day_bounds(day_list[0], day_list[-1], tz=tz)
    out = {link.pk: [0, 0, [0] * days] for link in links}
    for click in Click.objects.filter(network_id=network.pk, link_id__in=list(out), created_at__gte=since):
        into = out[click.link_id]
        into[0] += 1
        into[1] += click.is_unique and not click.is_bot and not click.off_target
        into[2][day_list.index(timezone.localtime(click.created_at, tz).date())] += 1
    return {pk: (clicks, unique, per_day) for pk, (clicks, unique, per_day) in out.items()}


@pytest.mark.parametrize("zone", ["UTC", "Europe/Riga", "America/New_York"])
def test_the_figures_equal_what_the_raw_clicks_give(world, partnership, zone):
    Network.objects.filter(pk=world.a.network.pk).update(timezone=zone)
    network = Network.objects.get(pk=world.a.network.pk)
    links = [make_link(partnership, code=f"rawlink{n:03d}", sub1=f"s{n}") for n in range(4)]
    _ingest(links)
    expected = _from_raw_clicks(network, links)
    assert sum(clicks for clicks, _unique, _days in expected.values()) > 150  # most of 35 days are within 30
    figures = link_figures(network=network, links=TrackingLink.objects.for_network(network)
                           .filter(pk__in=[x.pk for x in links]).select_related("program"))
    assert {pk: (f.clicks, f.unique_clicks, f.per_day) for pk, f in figures.items()} == expected


def test_the_link_builder_never_reads_the_click_table(world, web, partnership):
    link = make_link(partnership, code="noscan0001")
    _ingest([link], clicks=20, days=3)
    client = web("a", "affiliate")
    client.get("/partner/links/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/partner/links/")
    rows = {row[0].pk: row[2] for row in response.context["rows"]}
    assert rows[link.pk].clicks == Click.objects.filter(network_id=link.network_id, link=link).count() > 0
    scans = [q["sql"] for q in captured.captured_queries if re.search(r"\btracking_click\b", q["sql"])]
    assert scans == []
    assert any("tracking_linkrollup" in q["sql"] for q in captured.captured_queries)


def test_another_networks_clicks_are_never_counted(world, partnership):
    link = make_link(partnership, code="ownlink001")
    foreign = make_link(make_partnership(make_program(world.b.advertiser, name="Bravo"), world.b.affiliate),
                        code="bravolnk01")
    _ingest([link, foreign], clicks=60, days=2)
    assert LinkRollup.objects.filter(network_id=world.b.network.pk, link=foreign).exists()
    own = link_figures(network=world.a.network, links=[link, foreign])
    assert own[foreign.pk].clicks == 0 and own[foreign.pk].per_day == [0] * DAYS
    assert own[link.pk].clicks == Click.objects.filter(network_id=world.a.network.pk, link=link).count()


def test_the_ingester_adds_one_upsert_per_batch_and_counts_a_redelivered_click_once(world, partnership,
                                                                                     monkeypatch):
    links = [make_link(partnership, code=f"batchlnk{n:02d}") for n in range(5)]
    now = timezone.now()
    records = [record_for(links[n % 5], new_click_id(int((now - timedelta(hours=n % 3)).timestamp() * 1000),
                                                     entropy=n), ip_hash=f"v{n}") for n in range(50)]
    writes = []  # (table, rows) of each multi-row INSERT (PostgreSQL's go past Django's cursor wrapper)
    insert = ingest._insert_returning
    monkeypatch.setattr(ingest, "_insert_returning",
                        lambda table, columns, rows, *args: writes.append((table, len(rows))) or insert(
                            table, columns, rows, *args))
    assert ingest.ingest_records(records).inserted == 50
    assert [(table, n) for table, n in writes if table == LinkRollup._meta.db_table] == [("tracking_linkrollup", 15)]
    assert LinkRollup.objects.filter(network_id=world.a.network.pk).count() == 15  # 5 links x 3 hours
    assert ingest.ingest_records(records[:10]).inserted == 0  # redelivered: counted once
    totals = LinkRollup.objects.filter(network_id=world.a.network.pk).aggregate(c=Sum("clicks"), u=Sum("unique_clicks"))
    assert totals == {"c": 50, "u": 50}


def test_the_migrations_fill_is_the_ingesters_sums_and_keeps_hours_whose_clicks_are_gone(world, partnership):
    links = [make_link(partnership, code=f"filllnk{n:02d}") for n in range(3)]
    _ingest(links, clicks=120, days=10)
    written = set(LinkRollup.objects.filter(network_id=world.a.network.pk)
                  .values_list("link_id", "hour", "clicks", "unique_clicks"))
    LinkRollup.objects.filter(network_id=world.a.network.pk).delete()
    link_rollups_rebuild(world.a.network.pk)  # the migration's fill: from the raw clicks alone
    assert set(LinkRollup.objects.filter(network_id=world.a.network.pk)
               .values_list("link_id", "hour", "clicks", "unique_clicks")) == written
    # Retention trims the raw clicks of the oldest days: a repair keeps those hours' rollups as they were.
    Network.objects.filter(pk=world.a.network.pk).update(click_retention_days=5)
    cutoff = timezone.now() - timedelta(days=5)
    Click.objects.filter(network_id=world.a.network.pk, created_at__lt=cutoff).delete()  # as the purge does
    assert Click.objects.filter(network_id=world.a.network.pk).exists()
    link_rollups_rebuild(world.a.network.pk)
    assert set(LinkRollup.objects.filter(network_id=world.a.network.pk)
               .values_list("link_id", "hour", "clicks", "unique_clicks")) == written


def test_rebuild_daily_figures_rewrites_the_link_rollups_when_asked(world, partnership):
    link = make_link(partnership, code="cmdlink001")
    _ingest([link], clicks=30, days=3)
    written = set(LinkRollup.objects.filter(network_id=world.a.network.pk).values_list("hour", "clicks"))
    LinkRollup.objects.filter(network_id=world.a.network.pk).update(clicks=999)  # written around the ingester
    call_command("rebuild_daily_figures", network=[world.a.network.slug], stdout=io.StringIO())
    assert {c for _h, c in LinkRollup.objects.filter(network_id=world.a.network.pk).values_list("hour", "clicks")} \
        == {999}  # not without the flag
    out = io.StringIO()
    call_command("rebuild_daily_figures", network=[world.a.network.slug], link_rollups=True, stdout=out)
    assert set(LinkRollup.objects.filter(network_id=world.a.network.pk).values_list("hour", "clicks")) == written
    assert "link rollup rows from the raw clicks" in out.getvalue()


def test_the_fill_migration_counts_every_networks_stored_clicks_on_its_own_links(world, partnership):
    fill = importlib.import_module("tracking.migrations.0024_fill_link_rollup").fill
    link = make_link(partnership, code="oldclick01")
    foreign = make_link(make_partnership(make_program(world.b.advertiser, name="Bravo"), world.b.affiliate),
                        code="oldclick02")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    for n, (each, flags) in enumerate([(link, {}), (link, {"is_unique": False}), (link, {"is_bot": True}),
                                       (foreign, {}), (link, {"off_target": "country"})]):
        Click.objects.create(network_id=each.network_id, click_id=new_click_id(int(hour.timestamp() * 1000) + n),
                             program_id=each.program_id, partnership_id=each.partnership_id, link=each,
                             affiliate_id=each.affiliate_id, created_at=hour + timedelta(minutes=n), **flags)
    assert not LinkRollup.objects.exists()  # stored before the table: the ingester never counted them
    fill(apps, None)
    assert list(LinkRollup.objects.filter(network_id=world.a.network.pk).values_list("link_id", "hour", "clicks",
                                                                                      "unique_clicks")) \
        == [(link.pk, hour, 4, 1)]
    assert list(LinkRollup.objects.filter(network_id=world.b.network.pk).values_list("link_id", "clicks")) \
        == [(foreign.pk, 1)]
