"""The report (GET /api/v1/reports) and the dashboard series equal sums computed here from the raw rows: clicks,
conversions and commissions written through the real paths (the click ingester, the postback, refunds, approvals
and rejections) around the local midnights of two networks in different time zones, across both DST changes of
autumn 2026. Nothing here reads how the report is stored: it holds for raw-table queries and for pre-aggregates."""

import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from commissions.models import Commission
from commissions.services import commission_approve, commission_reject
from core.money import quantize
from network import daily
from programs.models import SUB_FIELDS, Program
from reports.figures import daily_series, overview_query
from reports.rebuild import days_rebuild
from reports.selectors import GROUPS
from tests.conftest import api_client
from tests.factories import make_advertiser, make_link, make_partnership, make_program
from tests.reports.daytables import day_tables
from tests.tracking.clicks_support import record_for
from tracking import ingest
from tracking.ids import click_id_time, new_click_id
from tracking.models import Click, Conversion
from tracking.services import conversion_refund

pytestmark = pytest.mark.django_db

SEED = 20261025
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SECOND_CURRENCY = "USD"
# Network a in Los Angeles (euros), network b in Berlin (yen: no minor units). Berlin falls back on 25 October,
# Los Angeles on 1 November; 25/26 October and 1/2 November are also ISO week changes, 31 October/1 November a
# month change.
ZONES = {"a": ("America/Los_Angeles", "EUR"), "b": ("Europe/Berlin", "JPY")}
NIGHTS = (date(2026, 10, 23), date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 31), date(2026, 11, 1))
FULL = (date(2026, 10, 22), date(2026, 11, 3))  # every event of both networks, in either zone
INNER = (date(2026, 10, 25), date(2026, 11, 1))  # starts and ends at midnights with events on both sides
TIME_GROUPS = ("day", "week", "month")
COLUMNS = {
    "operator": ["clicks", "unique_clicks", "conversions", "sales", "revenue", "payout", "profit", "conversion_rate",
                 "epc"],
    "advertiser": ["clicks", "unique_clicks", "conversions", "sales", "revenue", "conversion_rate", "epc"],
    "affiliate": ["clicks", "unique_clicks", "conversions", "payout", "conversion_rate", "epc"],
}


# --- the dashboard's rule for money, in one place ---------------------------------------------------------------
def dashboard_money_at(commission: dict, conversion: dict) -> datetime:
    """When the dashboard counts a commission's money: as the report does, the moment of its conversion
    (reports/figures.py: "money lands, as in the report, on the local day of its conversion")."""
    return conversion["created_at"]


# --- the world --------------------------------------------------------------------------------------------------
@dataclass
class Party:
    name: str
    role: str  # operator, advertiser or affiliate
    membership: object
    key: str
    party_id: int | None  # the Advertiser's or Affiliate's id


@dataclass
class Net:
    name: str
    tenant: object
    tz: ZoneInfo
    currencies: tuple[str, str]
    links: list
    advertisers: dict  # advertiser id -> its API key
    parties: list


@contextmanager
def clock(at: datetime):
    """`timezone.now()` is `at` for every writer (rows' created_at, attribution windows, fraud timings)."""
    with mock.patch.object(timezone, "now", lambda: at):
        yield


def make_net(name: str, tenant) -> Net:
    zone_name, currency = ZONES[name]
    network = tenant.network
    network.timezone, network.default_currency = zone_name, currency
    network.save(update_fields=["timezone", "default_currency"])
    other, other_issued = make_advertiser(network, "Other Shop", f"other@{network.slug}.test")
    main = tenant.advertiser
    p1 = make_program(main, name=f"{name} Tents", currency=currency, second_tier_percent=Decimal("20"),
                      rules=[{"event": "sale", "kind": "percent", "payout": Decimal("7.5"), "revenue": Decimal("9")}])
    p2 = make_program(other, name=f"{name} Boots", currency=currency, fraud_policy="reject",
                      rules=[{"event": "sale", "kind": "percent", "payout": Decimal("12")}])
    p3 = make_program(main, name=f"{name} US Tents", currency=SECOND_CURRENCY,
                      rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10"), "revenue": Decimal("13.5")}])
    a1, a2 = tenant.affiliate, tenant.affiliate2
    a2.referred_by = a1  # a1 earns an override on a2's sales of p1: money on a1's rows without its conversions
    a2.save(update_fields=["referred_by"])
    links = [make_link(make_partnership(program, affiliate))
             for program, affiliate in ((p1, a1), (p1, a2), (p2, a1), (p3, a1), (p3, a2))]
    parties = [
        Party("owner", "operator", tenant.owner, tenant.owner_key, None),
        Party("staff", "operator", tenant.staff, tenant.staff_key, None),
        Party("advertiser", "advertiser", main.membership, tenant.advertiser_key, main.pk),
        Party("other advertiser", "advertiser", other.membership, other_issued.raw, other.pk),
        Party("affiliate", "affiliate", a1.membership, tenant.affiliate_key, a1.pk),
        Party("affiliate2", "affiliate", a2.membership, tenant.affiliate2_key, a2.pk),
    ]
    return Net(name=name, tenant=tenant, tz=ZoneInfo(zone_name), currencies=(currency, SECOND_CURRENCY),
               links=links, advertisers={main.pk: tenant.advertiser_key, other.pk: other_issued.raw},
               parties=parties)


def near_midnight(rng: random.Random) -> datetime:
    """A moment between 23:10 and 00:50 local in Los Angeles or in Berlin, whichever network it is for: each
    network's events straddle its own midnights and the other zone's (a report in the wrong zone shows)."""
    zone = ZoneInfo(rng.choice([zone_name for zone_name, _ in ZONES.values()]))
    midnight = datetime.combine(rng.choice(NIGHTS) + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return midnight + timedelta(seconds=rng.randint(-50 * 60, 50 * 60))


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def write_clicks(rng: random.Random, net: Net, count: int) -> None:
    """Clicks through the ingester in batches: varied sub IDs and countries, repeat visitors within the duplicate
    window, bot user agents, and a batch delivered twice."""
    records = []
    for _ in range(count):
        if records and rng.random() < 0.15:  # the same visitor on the same link a few seconds later: a duplicate
            first = rng.choice(records)
            link = next(link for link in net.links if link.pk == first["link_id"])
            at = click_id_time(first["click_id"]) + timedelta(seconds=rng.randint(1, 50))
            visitor = first["ip_hash"]
        else:
            link, at, visitor = rng.choice(net.links), near_midnight(rng), f"v{rng.randint(1, 30)}"
        agent = rng.choices(["Mozilla/5.0 Firefox/140.0", BOT, ""], weights=[85, 10, 5])[0]
        record = record_for(link, new_click_id(ms(at), entropy=rng.getrandbits(80)), ip_hash=visitor,
                            user_agent=agent, sub1=rng.choice(["fb", "ig", "news", ""]),
                            country=rng.choice(["DE", "US", "FR", ""]))
        record |= {"sub2": rng.choice(["", "x", "y"]), "sub3": rng.choice(["", "", "c3"]),
                   "sub4": rng.choice(["", "", "", "d4"]), "sub5": rng.choice(["", "", "", "", "e5"])}
        records.append(record)
    rng.shuffle(records)
    for start in range(0, len(records), 40):
        ingest.ingest_records(records[start:start + 40])
    assert ingest.ingest_records(records[:25]).inserted == 0  # redelivered: nothing counted twice


def amount_for(rng: random.Random, currency: str) -> Decimal:
    return Decimal(rng.randint(500, 30000)) if currency == "JPY" else Decimal(rng.randint(500, 30000)) / 100


def write_conversions(rng: random.Random, net: Net, attributed: int, unattributed: int,
                      capture_on_commit) -> list[Conversion]:
    """Postbacks at chosen times, each one's commissions computed on commit (as the eager task does), some of
    them late (a busy worker): up to a day after the sale, often on the next local day."""
    clicks = list(Click.objects.filter(network=net.tenant.network).order_by("click_id"))
    bots = [click for click in clicks if click.is_bot]
    # A few sales from bot or duplicate clicks of the program whose fraud policy rejects them.
    refused = [click for click in clicks if click.program_id == net.links[2].program_id
               and (click.is_bot or not click.is_unique)]
    programs = {program.pk: program for program in Program.objects.filter(network=net.tenant.network)}
    posts = []
    for n in range(attributed):
        click = rng.choice(refused if n < 3 else bots if rng.random() < 0.2 else clicks)
        program = programs[click.program_id]
        at = click.created_at + timedelta(seconds=rng.randint(3, 100 * 60))
        body = {"click_id": click.click_id, "amount": str(amount_for(rng, program.currency)),
                "currency": program.currency}
        posts.append((at, program.advertiser_id, f"{net.name}-{n}", body))
    for n in range(unattributed):
        currency = rng.choice(net.currencies)
        posts.append((near_midnight(rng), rng.choice(list(net.advertisers)), f"{net.name}-u{n}",
                      {"amount": str(amount_for(rng, currency)), "currency": currency}))
    posts.sort(key=lambda post: post[0])
    for at, advertiser_id, order_id, body in posts:
        with capture_on_commit() as kicks, clock(at):
            response = api_client(net.advertisers[advertiser_id]).post(
                "/api/v1/conversions", {"order_id": order_id, **body}, format="json")
        assert response.status_code in (200, 201), response.content
        late = at + timedelta(minutes=rng.randint(20, 24 * 60)) if rng.random() < 0.3 else at
        with capture_on_commit(execute=True), clock(late):
            for kick in kicks:
                kick()
    return list(Conversion.objects.filter(network=net.tenant.network).order_by("order_id"))


def write_refunds_and_decisions(rng: random.Random, net: Net, conversions: list[Conversion]) -> None:
    """Partial and full refunds (two of them partial, then the rest), approvals and rejections, in a shuffled
    order: a refund may come before or after its commission's decision."""
    network = net.tenant.network
    refunded = rng.sample(conversions, 10)
    actions = [("partial", c) for c in refunded[:6]] + [("full", c) for c in refunded[6:] + refunded[:2]]
    actions += [("decide", c) for c in Commission.objects.filter(network=network).order_by("pk") if rng.random() < 0.5]
    rng.shuffle(actions)
    for n, (action, row) in enumerate(actions):
        row.refresh_from_db()
        with clock(datetime(2026, 11, 5, tzinfo=UTC) + timedelta(minutes=7 * n)):
            if action == "decide":
                if row.status in (Commission.Status.PENDING, Commission.Status.ON_HOLD):
                    decide = commission_approve if rng.random() < 0.65 else commission_reject
                    decide(network=network, commission=row, operator=True)
            elif row.refunded_amount < row.amount:
                remaining = row.amount - row.refunded_amount
                part = quantize(remaining * Decimal(rng.randint(10, 90)) / 100, row.currency)
                partial = action == "partial" and 0 < part < remaining
                conversion_refund(network=network, conversion=row, amount=part if partial else None)


@pytest.fixture
def nets(world, django_capture_on_commit_callbacks) -> list[Net]:
    rng = random.Random(SEED)
    nets = [make_net("a", world.a), make_net("b", world.b)]
    for net in nets:
        write_clicks(rng, net, 150)
    for net in nets:
        conversions = write_conversions(rng, net, 22, 4, django_capture_on_commit_callbacks)
        write_refunds_and_decisions(rng, net, conversions)
    assert_the_traffic_covers_what_the_figures_must_handle(nets)
    return nets


# --- the raw rows, as facts ---------------------------------------------------------------------------------------

def raw_rows(net: Net) -> tuple[list[dict], list[dict], list[dict]]:
    """(clicks, conversions, commissions) of the network as plain dicts; a commission carries its conversion."""
    network = net.tenant.network
    programs = {p.pk: p for p in Program.objects.filter(network=network)}
    clicks = [row | {"currency": programs[row["program_id"]].currency,
                     "advertiser_id": programs[row["program_id"]].advertiser_id}
              for row in Click.objects.filter(network=network).values(
                  "created_at", "program_id", "affiliate_id", "is_unique", "is_bot", *SUB_FIELDS, "country")]
    conversions = {row["id"]: row for row in Conversion.objects.filter(network=network).values(
        "id", "created_at", "program_id", "affiliate_id", "advertiser_id", "currency", "status", *SUB_FIELDS,
        "country", "amount", "refunded_amount", "attribution")}
    commissions = [row | {"conversion": conversions[row["conversion_id"]]}
                   for row in Commission.objects.filter(network=network).values(
                       "conversion_id", "tier", "created_at", "program_id", "affiliate_id", "advertiser_id",
                       "currency", "status", "amount", "reversed_amount", "revenue", "reversed_revenue")]
    return clicks, list(conversions.values()), commissions


def fact(row: dict, at: datetime, currency: str, **values) -> dict:
    dims = {"program": row["program_id"], "affiliate": row["affiliate_id"],
            **{name: row[name] for name in (*SUB_FIELDS, "country")}}
    return {"at": at, "currency": currency, "advertiser": row["advertiser_id"], **dims, **values}


def money_fact(commission: dict, at: datetime) -> dict:
    """A commission's money, net of reversals: its own program, affiliate and advertiser, its conversion's sub IDs
    and country."""
    row = commission["conversion"] | {k: commission[k] for k in ("program_id", "affiliate_id", "advertiser_id")}
    return fact(row, at, commission["currency"], revenue=commission["revenue"] - commission["reversed_revenue"],
                payout=commission["amount"] - commission["reversed_amount"])


def report_facts(net: Net) -> list[dict]:
    """The report's rule (reports/selectors.py): clicks on the local day of the click, unique ones neither
    duplicates nor bots; attributed conversions not rejected, on their local day; money of commissions not
    rejected, net of reversals, on the local day of their conversion (its sub IDs and country)."""
    clicks, conversions, commissions = raw_rows(net)
    facts = [fact(c, c["created_at"], c["currency"], clicks=1, unique_clicks=int(c["is_unique"] and not c["is_bot"]))
             for c in clicks]
    facts += [fact(c, c["created_at"], c["currency"], conversions=1, click_conversions=int(c["attribution"] == "click"),
                   sales=c["amount"] - c["refunded_amount"])
              for c in conversions if c["affiliate_id"] is not None and c["status"] != Conversion.Status.REJECTED]
    facts += [money_fact(c, c["conversion"]["created_at"]) for c in commissions
              if c["status"] != Commission.Status.REJECTED]
    return facts


def dashboard_facts(net: Net) -> list[dict]:
    """The dashboard's rule (reports/figures.py): clicks of every currency; conversions not rejected, unattributed
    ones too, of every currency; money of commissions not rejected, net of reversals, at `dashboard_money_at`."""
    clicks, conversions, commissions = raw_rows(net)
    facts = [fact(c, c["created_at"], None, clicks=1) for c in clicks]
    facts += [fact(c, c["created_at"], None, conversions=1) for c in conversions
              if c["status"] != Conversion.Status.REJECTED]
    facts += [money_fact(c, dashboard_money_at(c, c["conversion"])) for c in commissions
              if c["status"] != Commission.Status.REJECTED]
    return facts


def sees(party: Party, f: dict) -> bool:
    if party.role == "advertiser":
        return f["advertiser"] == party.party_id
    if party.role == "affiliate":
        return f["affiliate"] == party.party_id
    return True


def key_of(group_by: str, day: date, f: dict):
    if group_by == "day":
        return day.isoformat()
    if group_by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if group_by == "month":
        return day.strftime("%Y-%m")
    return f[group_by]


def time_keys(group_by: str, first: date, last: date) -> list:
    keys = []
    for n in range((last - first).days + 1):
        key = key_of(group_by, first + timedelta(days=n), {})
        if key not in keys:
            keys.append(key)
    return keys


def zero() -> dict:
    return {"clicks": 0, "unique_clicks": 0, "conversions": 0, "click_conversions": 0, "sales": Decimal(0),
            "revenue": Decimal(0), "payout": Decimal(0)}


def figures(sums: dict, role: str, currency: str) -> dict:
    revenue, payout = quantize(sums["revenue"], currency), quantize(sums["payout"], currency)
    clicks, unique, conversions = sums["clicks"], sums["unique_clicks"], sums["conversions"]
    earned = revenue if role == "advertiser" else payout  # what a click earns the one who reads
    # The rate counts the conversions that came through a click (coupon sales have none), never above the clicks.
    rate, through_clicks = None, sums["click_conversions"]
    if unique and through_clicks <= unique:
        rate = str((Decimal(through_clicks) / unique).quantize(Decimal("0.0001")))
    row = {"clicks": clicks, "unique_clicks": unique, "conversions": conversions,
           "sales": str(quantize(sums["sales"], currency)), "revenue": str(revenue),
           "payout": str(payout), "profit": str(quantize(revenue - payout, currency)),
           "conversion_rate": rate,
           "epc": str(quantize(earned / clicks, currency)) if clicks else None}
    return {name: row[name] for name in COLUMNS[role]}


def expected_report(facts, net: Net, party: Party, group_by: str, currency: str, first: date, last: date):
    sums, totals = defaultdict(zero), zero()
    for f in facts:
        day = f["at"].astimezone(net.tz).date()
        if f["currency"] != currency or not first <= day <= last or not sees(party, f):
            continue
        key = key_of(group_by, day, f)
        for name in zero():
            if name in f:
                sums[key][name] += f[name]
                totals[name] += f[name]
    keys = time_keys(group_by, first, last) if group_by in TIME_GROUPS else list(sums)
    rows = {key: figures(sums[key], party.role, currency) for key in keys}
    return rows, figures(totals, party.role, currency)


def empty(row: dict) -> bool:
    return all(value in (0, None) or (isinstance(value, str) and Decimal(value) == 0) for value in row.values())


def assert_the_traffic_covers_what_the_figures_must_handle(nets: list[Net]) -> None:
    """The data is not vacuous (checked as it is built, so no test passes over an empty world): events on both
    sides of both zones' midnights, duplicates, bots, unattributed, held and rejected sales, partial and full refunds,
    approvals, rejections, second-tier overrides, and late commissions on another local day than their sale."""
    for net in nets:
        clicks, conversions, commissions = raw_rows(net)
        for zone_name, _ in ZONES.values():
            local = [c["created_at"].astimezone(ZoneInfo(zone_name)).time() for c in clicks]
            assert any(t >= time(23) for t in local) and any(t < time(1) for t in local)
        assert len(clicks) == 150  # every click once, the redelivered batch included
        assert any(not c["is_unique"] for c in clicks) and any(c["is_bot"] for c in clicks)
        assert {c["currency"] for c in conversions} == set(net.currencies)
        assert any(c["affiliate_id"] is None for c in conversions)
        assert {c["status"] for c in conversions} == {"accepted", "held", "rejected"}
        statuses = {c["status"] for c in commissions}
        assert {"approved", "rejected", "reversed"} <= statuses, statuses
        assert any(0 < c["reversed_amount"] < c["amount"] for c in commissions)
        late = [c for c in commissions
                if c["created_at"].astimezone(net.tz).date() != c["conversion"]["created_at"].astimezone(net.tz).date()]
        assert late, "some commissions must be written on another local day than their conversion"
        assert {c["affiliate_id"] for c in commissions} == {net.tenant.affiliate.pk, net.tenant.affiliate2.pk}
        assert any(c["tier"] == 2 and c["status"] != "rejected" for c in commissions)
        # The range the tests read covers everything, in either rule.
        days = {f["at"].astimezone(net.tz).date() for f in report_facts(net) + dashboard_facts(net)}
        assert FULL[0] < min(days) and max(days) <= FULL[1]


# --- the tests ------------------------------------------------------------------------------------------------------
def test_every_report_row_and_total_equals_the_raw_rows(nets):
    assert_every_report_equals_the_raw_rows(nets)


def assert_every_report_equals_the_raw_rows(nets: list[Net]) -> None:
    assert set(GROUPS) == {*TIME_GROUPS, "program", "affiliate", *SUB_FIELDS, "country"}  # a new one: add it here
    names = {"program": {}, "affiliate": {}}
    for net in nets:
        names["program"] |= {p.pk: p.name for p in Program.objects.filter(network=net.tenant.network)}
        names["affiliate"] |= {a.pk: a.name for a in (net.tenant.affiliate, net.tenant.affiliate2)}
    checked_rows = 0
    for net in nets:
        facts = report_facts(net)
        for party in net.parties:
            client = api_client(party.key)
            for currency in net.currencies:
                cases = [(group_by, *FULL) for group_by in GROUPS] + [(g, *INNER) for g in ("day", "program", "sub1")]
                for group_by, first, last in cases:
                    where = f"network {net.name}, {party.name}, {currency}, {group_by}, {first}..{last}"
                    response = client.get("/api/v1/reports", {"group_by": group_by, "currency": currency,
                                                              "date_from": first, "date_to": last})
                    assert response.status_code == 200, (where, response.content)
                    body = response.json()
                    assert (body["timezone"], body["currency"]) == (net.tz.key, currency), where
                    assert body["columns"] == COLUMNS[party.role], where
                    assert body["truncated"] is False, where
                    rows, totals = expected_report(facts, net, party, group_by, currency, first, last)
                    got = {row["key"]: {name: row[name] for name in COLUMNS[party.role]} for row in body["rows"]}
                    assert len(got) == len(body["rows"]), (where, "a key listed twice")
                    assert all(set(row) == {"key", "label", *COLUMNS[party.role]} for row in body["rows"]), where
                    if group_by in TIME_GROUPS:
                        assert [row["key"] for row in body["rows"]] == list(rows), where
                    else:
                        # A row of zeros may or may not be listed; the others, busiest first.
                        got = {key: row for key, row in got.items() if not empty(row)}
                        rows = {key: row for key, row in rows.items() if not empty(row)}
                        order = [(row["clicks"], row["conversions"]) for row in body["rows"]]
                        assert order == sorted(order, reverse=True), where
                    assert got == rows, where
                    assert {name: body["totals"][name] for name in COLUMNS[party.role]} == totals, where
                    if group_by in names:
                        assert all(row["label"] == names[group_by][row["key"]] for row in body["rows"]), where
                    checked_rows += len(rows)
    assert checked_rows > 500


def test_every_dashboard_series_equals_the_raw_rows(nets):
    first, last = FULL
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for net in nets:
        facts = dashboard_facts(net)
        for party in net.parties:
            for currency in net.currencies:
                where = f"network {net.name}, {party.name}, {currency}"
                q = overview_query(network=net.tenant.network, membership=party.membership, days=len(days),
                                   currency=currency, today=last)
                series = daily_series(q, ["clicks", "conversions", "revenue", "payout"])
                expected = {day: zero() for day in days}
                for f in facts:
                    day = f["at"].astimezone(net.tz).date()
                    if day not in expected or not sees(party, f) or f["currency"] not in (None, currency):
                        continue
                    for name in ("clicks", "conversions", "revenue", "payout"):
                        expected[day][name] += f.get(name, 0)
                assert series["days"] == days, where
                assert series["clicks"] == [expected[day]["clicks"] for day in days], where
                assert series["conversions"] == [expected[day]["conversions"] for day in days], where
                for name in ("revenue", "payout"):
                    assert [str(v) for v in series[name]] == [
                        str(quantize(expected[day][name], currency)) for day in days], (where, name)


def test_a_rebuild_finds_what_the_writers_kept(nets):
    """The rebuild (from hourly rollups, conversions, commissions) and the writers' differences agree, row by row,
    in whole-hour zones (a half-hour zone's clicks are exact only as ingested)."""
    for net in nets:
        network_id = net.tenant.network.pk
        kept = day_tables(network_id)
        assert len(kept) > 50
        days_rebuild(network_id)
        assert day_tables(network_id) == kept, net.name


def test_after_a_time_zone_change_every_report_follows_the_new_days(nets, django_capture_on_commit_callbacks):
    network = nets[0].tenant.network
    network.timezone = "Asia/Tokyo"  # 17 hours from Los Angeles: most events move to another day
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        network.save(update_fields=["timezone"])
        rebuild = daily.rebuild_queue(network)
    rebuild.refresh_from_db()
    assert (rebuild.status, rebuild.done, rebuild.total) == ("done", rebuild.total, rebuild.total)
    assert rebuild.total >= 1
    assert_every_report_equals_the_raw_rows([replace(nets[0], tz=ZoneInfo("Asia/Tokyo")), nets[1]])


# --- known disagreements with the raw rows (the rows stay as the tests above would check them) --------------------
def one_sale(world, capture_on_commit, *, zone_name: str, at: datetime, sub1: str = "fb") -> Net:
    """Network a in `zone_name` with one click at `at` and its sale five minutes later."""
    net = make_net("a", world.a)
    net.tenant.network.timezone, net.tz = zone_name, ZoneInfo(zone_name)
    net.tenant.network.save(update_fields=["timezone"])
    link = net.links[0]
    click_id = new_click_id(ms(at), entropy=1)
    assert ingest.ingest_records([record_for(link, click_id, ip_hash="v1", sub1=sub1)]).inserted == 1
    with capture_on_commit(execute=True), clock(at + timedelta(minutes=5)):
        response = api_client(net.advertisers[link.program.advertiser_id]).post(
            "/api/v1/conversions", {"order_id": "o-1", "click_id": click_id, "amount": "80.00", "currency": "EUR"},
            format="json")
    assert response.status_code == 201, response.content
    return net


def report_rows(net: Net, group_by: str) -> list[tuple]:
    body = api_client(net.tenant.owner_key).get("/api/v1/reports", {
        "group_by": group_by, "currency": "EUR", "date_from": FULL[0], "date_to": FULL[1]}).json()
    return [(row["key"], row["clicks"], row["conversions"]) for row in body["rows"]
            if row["clicks"] or row["conversions"]]


def test_a_sub_id_longer_than_the_rollups_keep_is_one_report_row(world, django_capture_on_commit_callbacks):
    long = "L" * 150
    net = one_sale(world, django_capture_on_commit_callbacks, zone_name="Europe/Berlin",
                   at=datetime(2026, 10, 24, 18, tzinfo=UTC), sub1=long)
    rows = report_rows(net, "sub1")
    assert [(clicks, conversions) for _, clicks, conversions in rows] == [(1, 1)]
    assert long.startswith(rows[0][0]) and len(rows[0][0]) >= 100  # whole, or cut alike for clicks and sales


def test_a_click_after_midnight_in_a_half_hour_zone_counts_on_its_own_day(world, django_capture_on_commit_callbacks):
    # 18:45 UTC is 00:15 on 25 October in Kolkata (UTC+05:30); its hourly rollup, 18:00 UTC, is 23:30 on the 24th:
    # the click's day is taken from its own instant when it is ingested.
    net = one_sale(world, django_capture_on_commit_callbacks, zone_name="Asia/Kolkata",
                   at=datetime(2026, 10, 24, 18, 45, tzinfo=UTC))
    assert report_rows(net, "day") == [("2026-10-25", 1, 1)]
