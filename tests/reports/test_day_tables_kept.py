"""The day tables (ClickDay, ConversionDay, CommissionDay) as the writers keep them, in their own transactions, equal
what a rebuild recomputes from the hourly rollups, the conversions and the commissions, row by row, in a
whole-hour zone other than UTC: tier true-ups both ways, late attribution, refunds, decisions, CPC, second-tier
overrides, the postback's fast path, and two networks side by side. Every row is written through the services
(the ingester, the postback, refunds, decisions, the true-up and CPC runs), never around them."""

import itertools
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.utils import timezone

from commissions.models import Commission, CommissionDay
from commissions.services import commission_approve, commission_reject
from commissions.tasks import cpc_accrue_task
from commissions.trueup import tier_trueups_run
from network.daily import with_changes
from reports.rebuild import days_rebuild
from tests.conftest import api_client
from tests.factories import make_coupon, make_link, make_partnership, make_program
from tests.reports.daytables import day_tables
from tests.tracking.clicks_support import record_for
from tracking import ingest
from tracking.api import ConversionViewSet
from tracking.ids import new_click_id
from tracking.models import ClickDay, Conversion, ConversionDay
from tracking.services import conversion_refund, conversions_attribute_overdue

pytestmark = pytest.mark.django_db
D = Decimal
NEW_YORK = "America/New_York"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# A tier of 10 % from the third sale of a month (8 % before): as tests/commissions/test_tiers_trueup.py.
TIERED = {"event": "sale", "kind": "percent", "payout": D("8"), "tier_period": "month",
          "tiers": [{"min_conversions": 3, "payout": "10"}]}
SALE = {"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("12")}
AFTER_OCTOBER = datetime(2026, 11, 2, 12, tzinfo=UTC)  # October is closed in New York, grace included
_serial = itertools.count()  # program names and visitor hashes, unique in a test


# --- the day tables and the rebuild ------------------------------------------------------------------------------
def assert_kept(network) -> dict:
    """What the writers kept is what a rebuild from the sources finds, row by row (and there is something)."""
    kept = day_tables(network.pk)
    assert kept, "no day rows: nothing was kept"
    days_rebuild(network.pk)
    assert day_tables(network.pk) == kept
    return kept


def day_sums(model, network, day: date, names: tuple | None = None, **key) -> tuple:
    """A day table's sums of one local day (narrowed to some key columns), as the reports add them up; by default
    every sum but the click conversions (`click_sums` reads those)."""
    names = names or tuple(name for name in model.day_sums if name != "click_conversions")
    total = [0] * len(names)
    for table in with_changes(model):  # with the changes not folded in yet, as the reports read them
        found = table.objects.filter(network=network, day=day, **key).aggregate(
            **{name: Sum(name) for name in names})
        total = [t + (found[name] or 0) for t, name in zip(total, names, strict=True)]
    return tuple(total)


def click_sums(network, day: date, **key) -> tuple:
    """(conversions, those of them attributed through a click) of one local day."""
    return day_sums(ConversionDay, network, day, names=("conversions", "click_conversions"), **key)


def assert_days_equal_the_raw_rows(network) -> None:
    """Per local day, ConversionDay's (conversions, click conversions, sales) and CommissionDay's (revenue, payout)
    equal the raw rows: conversions not rejected (those attributed through a click), net of refunds; commissions not
    rejected, net of reversals, on their event's day."""
    tz = ZoneInfo(network.timezone)
    conversions, money = defaultdict(lambda: [0, 0, D(0)]), defaultdict(lambda: [D(0), D(0)])
    for row in Conversion.objects.filter(network=network).exclude(status=Conversion.Status.REJECTED):
        figures = conversions[row.created_at.astimezone(tz).date()]
        figures[0] += 1
        figures[1] += int(row.attribution == Conversion.Attribution.CLICK)
        figures[2] += row.amount - row.refunded_amount
    for row in (Commission.objects.filter(network=network).exclude(status=Commission.Status.REJECTED)
                .select_related("conversion", "rollup")):
        at = row.conversion.created_at if row.conversion else row.rollup.hour if row.rollup else row.created_at
        figures = money[at.astimezone(tz).date()]
        figures[0] += row.revenue - row.reversed_revenue
        figures[1] += row.amount - row.reversed_amount
    for model, raw in ((ConversionDay, conversions), (CommissionDay, money)):
        size = len(model.day_sums)
        table = defaultdict(lambda size=size: [0] * size)
        for row in (row for t in with_changes(model) for row in t.objects.filter(network=network).values(
                "day", *model.day_sums)):
            for n, name in enumerate(model.day_sums):
                table[row["day"]][n] += row[name]
        assert ({day: tuple(v) for day, v in table.items() if any(v)}
                == {day: tuple(v) for day, v in raw.items() if any(v)}), model.__name__


# --- writing through the services --------------------------------------------------------------------------------
@contextmanager
def clock(at: datetime):
    """`timezone.now()` is `at` for every writer (rows' created_at, attribution windows, fraud timings)."""
    with mock.patch.object(timezone, "now", lambda: at):
        yield


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def in_zone(tenant, zone_name: str = NEW_YORK):
    network = tenant.network
    network.timezone = zone_name
    network.save(update_fields=["timezone"])
    return network


def shop(tenant, *, rules, **fields):
    """A program of the tenant's advertiser and its two affiliates' links."""
    program = make_program(tenant.advertiser, name=f"Shop {next(_serial)}", rules=rules, **fields)
    return (program, make_link(make_partnership(program, tenant.affiliate)),
            make_link(make_partnership(program, tenant.affiliate2)))


def record(link, at: datetime, *, sub1="fb", country="US", bot=False) -> dict:
    """A click record as the redirect queues it, at `at`, from a visitor of its own (never a duplicate)."""
    extra = {"user_agent": BOT} if bot else {}
    return record_for(link, new_click_id(ms(at)), ip_hash=f"v{next(_serial)}", sub1=sub1, country=country,
                      **extra)


def ingest_clicks(capture, records: list[dict]) -> None:
    with capture(execute=True):  # a waiting conversion's attribution, then its commissions, on commit
        assert ingest.ingest_records(records).inserted == len(records)


def post(tenant, capture, at: datetime, order_id: str, amount: str = "100.00", **body) -> dict:
    """POST /api/v1/conversions at `at`; its commissions are computed on commit (as the eager task does)."""
    with clock(at), capture(execute=True):
        response = api_client(tenant.advertiser_key).post(
            "/api/v1/conversions", {"order_id": order_id, "amount": amount, "currency": "EUR", **body},
            format="json")
    assert response.status_code == 201, response.content
    return response.json()


def sale(tenant, capture, link, at: datetime, order_id: str, amount: str = "100.00", **click) -> Conversion:
    """A click on `link` half an hour before `at`, ingested, and the sale it attributes."""
    clicked = record(link, at - timedelta(minutes=30), **click)
    ingest_clicks(capture, [clicked])
    body = post(tenant, capture, at, order_id, amount, click_id=clicked["click_id"])
    assert body["attribution"] == "click", body
    return Conversion.objects.get(pk=body["id"])


def commissions_of(conversion: Conversion) -> list[Commission]:
    return list(Commission.objects.filter(conversion=conversion).order_by("tier", "pk"))


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# --- 1. tier true-ups --------------------------------------------------------------------------------------------
def october_sales(tenant, capture, link) -> list[Conversion]:
    """Four sales of 100.00 in October; the first at 22:30 on 4 October in New York (the 5th in UTC)."""
    moments = (at(5, 2, 30), at(5, 14), at(6, 14), at(7, 14))
    return [sale(tenant, capture, link, moment, f"T-{n}") for n, moment in enumerate(moments)]


def test_a_trueup_adjustment_lands_on_its_conversions_day(world, django_capture_on_commit_callbacks):
    network = in_zone(world.a)
    _, link, _ = shop(world.a, rules=[TIERED])
    sales = october_sales(world.a, django_capture_on_commit_callbacks, link)
    assert [commissions_of(c)[0].amount for c in sales] == [D("8.00")] * 3 + [D("10.00")]
    assert day_sums(CommissionDay, network, date(2026, 10, 4)) == (D("8"), D("8"))
    with django_capture_on_commit_callbacks(execute=True):
        assert tier_trueups_run(now=AFTER_OCTOBER) == 1
    adjustments = Commission.objects.filter(network=network, kind=Commission.Kind.ADJUSTMENT)
    assert sorted(adjustments.values_list("conversion_id", "amount")) == [(c.pk, D("2.00")) for c in sales[:3]]
    # Each day's money is now 10 % of its sale: the adjustment counts on its conversion's day, not the true-up's.
    for day in (4, 5, 6, 7):
        assert day_sums(CommissionDay, network, date(2026, 10, day)) == (D("10"), D("10")), day
    assert day_sums(CommissionDay, network, AFTER_OCTOBER.date()) == (0, 0)
    assert_kept(network)
    # A refund of half the first order reverses half of the pair (commission and adjustment) on that day.
    conversion_refund(network=network, conversion=sales[0], amount=D("50.00"))
    assert day_sums(CommissionDay, network, date(2026, 10, 4)) == (D("5"), D("5"))
    assert day_sums(ConversionDay, network, date(2026, 10, 4)) == (1, D("50"))
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


def test_a_trueup_reduction_lowers_its_conversions_day(world, django_capture_on_commit_callbacks):
    network = in_zone(world.a)
    _, link, _ = shop(world.a, rules=[TIERED])
    sales = october_sales(world.a, django_capture_on_commit_callbacks, link)
    for conversion in sales[:2]:  # rejected later in the month: the 4th was paid 10 % for a tier not reached
        commission_reject(network=network, commission=commissions_of(conversion)[0])
    assert day_sums(CommissionDay, network, date(2026, 10, 4)) == (0, 0)
    assert day_sums(ConversionDay, network, date(2026, 10, 4)) == (1, D("100"))  # the sale itself stands
    with django_capture_on_commit_callbacks(execute=True):
        assert tier_trueups_run(now=AFTER_OCTOBER) == 1
    fourth = commissions_of(sales[3])[0]
    assert (fourth.amount, fourth.reversed_amount, "trued_down" in fourth.rule_snapshot) == (D("10.00"),
                                                                                             D("2.00"), True)
    assert not Commission.objects.filter(network=network, kind=Commission.Kind.ADJUSTMENT).exists()
    assert day_sums(CommissionDay, network, date(2026, 10, 7)) == (D("8"), D("8"))
    assert day_sums(CommissionDay, network, date(2026, 10, 6)) == (D("8"), D("8"))
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 2. late attribution -----------------------------------------------------------------------------------------
def test_a_late_attribution_moves_the_sale_from_unattributed_to_its_affiliate(world,
                                                                             django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    network = in_zone(world.a)
    program, link, link2 = shop(world.a, rules=[SALE])
    coupon = make_coupon(link2.partnership, code="LATE-A")
    posted = at(10, 3, 30)  # 23:30 on 9 October in New York
    waiting = record(link, posted - timedelta(minutes=2), sub1="late", country="CA")
    body = post(world.a, capture, posted, "L-1", "80.00", click_id=waiting["click_id"])
    assert (body["attribution"], body["attribution_pending"]) == ("none", True)
    # A second one whose click never comes: the overdue sweep settles it by its coupon (affiliate 2).
    lost = post(world.a, capture, posted + timedelta(minutes=1), "L-2", "20.00",
                click_id=new_click_id(ms(posted - timedelta(minutes=1))), coupon=coupon.code)
    assert lost["attribution_pending"] is True
    night = date(2026, 10, 9)
    unattributed = {"program_id": 0, "affiliate_id": 0}
    assert day_sums(ConversionDay, network, night, **unattributed) == (2, D("100"))
    assert day_sums(ConversionDay, network, night, affiliate=world.a.affiliate) == (0, 0)
    assert click_sums(network, night) == (2, 0)
    # Refunded in part while it waits: its commission, computed later, starts reversed in that share.
    conversion_refund(network=network, conversion=Conversion.objects.get(pk=body["id"]), amount=D("30.00"))
    assert day_sums(ConversionDay, network, night, **unattributed) == (2, D("70"))
    assert_kept(network)

    with clock(posted + timedelta(minutes=3)):
        ingest_clicks(capture, [waiting])
    conversion = Conversion.objects.get(pk=body["id"])
    assert (conversion.attribution, conversion.affiliate_id, conversion.sub1) == ("click", world.a.affiliate.pk,
                                                                                  "late")
    assert day_sums(ConversionDay, network, night, **unattributed) == (1, D("20"))
    assert day_sums(ConversionDay, network, night, program=program, affiliate=world.a.affiliate, sub1="late",
                    country="CA") == (1, D("50"))
    assert click_sums(network, night, affiliate=world.a.affiliate) == (1, 1)  # the conversion rate counts it now
    assert day_sums(CommissionDay, network, night, affiliate=world.a.affiliate) == (D("6"), D("5"))  # of 50
    assert_kept(network)

    with clock(posted + timedelta(hours=1)), capture(execute=True):
        assert conversions_attribute_overdue() == 1
    assert Conversion.objects.get(pk=lost["id"]).affiliate_id == world.a.affiliate2.pk
    assert day_sums(ConversionDay, network, night, **unattributed) == (0, 0)
    assert day_sums(ConversionDay, network, night, affiliate=world.a.affiliate2) == (1, D("20"))
    assert click_sums(network, night, affiliate=world.a.affiliate2) == (1, 0)  # by its coupon: not in the rate
    assert day_sums(CommissionDay, network, night) == (D("8.4"), D("7"))  # 12 % / 10 % of 50 + 20
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 3. refunds --------------------------------------------------------------------------------------------------
def test_a_partial_then_full_refund_takes_the_sale_and_its_money_off_its_day(world,
                                                                            django_capture_on_commit_callbacks):
    network = in_zone(world.a)
    _, link, _ = shop(world.a, rules=[SALE])
    conversion = sale(world.a, django_capture_on_commit_callbacks, link, at(12, 3, 30), "R-1")  # the 11th locally
    night = date(2026, 10, 11)
    assert day_sums(ConversionDay, network, night) == (1, D("100"))
    assert day_sums(CommissionDay, network, night) == (D("12"), D("10"))
    assert day_sums(ConversionDay, network, date(2026, 10, 12)) == (0, 0)

    conversion_refund(network=network, conversion=conversion, amount=D("30.00"))
    commission = commissions_of(conversion)[0]
    assert (commission.reversed_amount, commission.reversed_revenue) == (D("3.00"), D("3.60"))
    assert day_sums(ConversionDay, network, night) == (1, D("70"))
    assert day_sums(CommissionDay, network, night) == (D("8.4"), D("7"))
    assert_kept(network)

    conversion_refund(network=network, conversion=conversion)  # the rest
    commission.refresh_from_db()
    assert commission.status == Commission.Status.REVERSED
    assert day_sums(ConversionDay, network, night) == (1, 0)  # still a sale, of nothing
    assert day_sums(CommissionDay, network, night) == (0, 0)
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 4. decisions ------------------------------------------------------------------------------------------------
def test_a_rejection_takes_its_money_off_and_an_approval_changes_nothing(world, django_capture_on_commit_callbacks):
    network = in_zone(world.a)
    _, link, link2 = shop(world.a, rules=[SALE])
    kept_sale = sale(world.a, django_capture_on_commit_callbacks, link, at(14, 3), "D-1", "50.00")
    rejected_sale = sale(world.a, django_capture_on_commit_callbacks, link2, at(14, 3, 20), "D-2", "100.00")
    night = date(2026, 10, 13)
    assert day_sums(CommissionDay, network, night) == (D("18"), D("15"))

    commission_reject(network=network, commission=commissions_of(rejected_sale)[0])
    assert day_sums(CommissionDay, network, night) == (D("6"), D("5"))
    assert day_sums(CommissionDay, network, night, affiliate=world.a.affiliate2) == (0, 0)
    assert day_sums(ConversionDay, network, night) == (2, D("150"))  # rejecting money leaves the sale
    before = assert_kept(network)

    commission_approve(network=network, commission=commissions_of(kept_sale)[0])
    assert day_tables(network.pk) == before
    assert day_sums(CommissionDay, network, night) == (D("6"), D("5"))
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 5. CPC ------------------------------------------------------------------------------------------------------
def test_cpc_commissions_land_on_their_clicks_day(world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    network = in_zone(world.a)
    _, link, _ = shop(world.a, rules=[{"event": "click", "kind": "fixed", "payout": D("0.05"),
                                       "revenue": D("0.08")}])
    late_evening = [record(link, at(20, 3, 10 + n)) for n in range(4)]  # 23:10.. on the 19th in New York
    after_midnight = [record(link, at(20, 4, 5 + n)) for n in range(3)]  # 00:05.. on the 20th
    ingest_clicks(capture, [*late_evening, *after_midnight, record(link, at(20, 3, 30), bot=True)])
    with capture(execute=True):
        assert cpc_accrue_task() == 2
    evening, midnight = date(2026, 10, 19), date(2026, 10, 20)
    assert day_sums(ClickDay, network, evening) == (5, 4, 1, 0)
    assert day_sums(CommissionDay, network, evening) == (D("0.32"), D("0.20"))
    assert day_sums(CommissionDay, network, midnight) == (D("0.24"), D("0.15"))
    assert_kept(network)

    ingest_clicks(capture, [record(link, at(20, 3, 50)), record(link, at(20, 3, 55))])  # late clicks of the hour
    with capture(execute=True):
        assert cpc_accrue_task() == 1
    assert Commission.objects.filter(network=network, kind=Commission.Kind.CLICK).count() == 3
    assert day_sums(CommissionDay, network, evening) == (D("0.48"), D("0.30"))
    assert day_sums(ClickDay, network, evening) == (7, 6, 1, 0)
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 6. second tier ----------------------------------------------------------------------------------------------
def test_a_second_tier_override_counts_for_the_referrer(world, django_capture_on_commit_callbacks):
    network = in_zone(world.a)
    referrer, referred = world.a.affiliate, world.a.affiliate2
    referred.referred_by = referrer
    referred.save(update_fields=["referred_by"])
    program, _, link2 = shop(world.a, rules=[SALE], second_tier_percent=D("20"))
    conversion = sale(world.a, django_capture_on_commit_callbacks, link2, at(22, 2), "S-1", sub1="ig")
    first, override = commissions_of(conversion)
    assert (override.tier, override.affiliate_id, override.amount) == (2, referrer.pk, D("2.00"))
    night = date(2026, 10, 21)  # 22:00 in New York
    assert day_sums(CommissionDay, network, night, affiliate=referred) == (D("12"), D("10"))
    # The referrer earns on a day it sold nothing, with its referral's sub IDs.
    assert day_sums(CommissionDay, network, night, affiliate=referrer, program=program, sub1="ig") == (D("2"),
                                                                                                       D("2"))
    assert day_sums(ConversionDay, network, night, affiliate=referrer) == (0, 0)
    assert_kept(network)

    conversion_refund(network=network, conversion=conversion, amount=D("50.00"))
    assert day_sums(CommissionDay, network, night, affiliate=referrer) == (D("1"), D("1"))
    assert day_sums(CommissionDay, network, night, affiliate=referred) == (D("6"), D("5"))
    commission_reject(network=network, commission=first)  # rejects its override too
    assert day_sums(CommissionDay, network, night) == (0, 0)
    assert day_sums(ConversionDay, network, night) == (1, D("50"))
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 7. the postback's fast path ---------------------------------------------------------------------------------
def fast_post(client, order_id: str, click_id: str) -> object:
    return client.post("/api/v1/conversions", {"order_id": order_id, "amount": "100.00", "currency": "EUR",
                                               "click_id": click_id}, format="json")


@pytest.mark.postgres
def test_the_fast_postback_writes_its_day_row_in_its_statement(world, django_capture_on_commit_callbacks,
                                                               monkeypatch):
    capture = django_capture_on_commit_callbacks
    network = in_zone(world.a)
    program, link, _ = shop(world.a, rules=[SALE])
    strict, strict_link, _ = shop(world.a, rules=[SALE], fraud_policy="reject")
    posted = at(16, 3, 40)  # 23:40 on 15 October in New York: the statement's day is the network's, not UTC's
    clicked = record(link, posted - timedelta(minutes=10), sub1="fast", country="DE")
    bot = record(strict_link, posted - timedelta(minutes=10), bot=True)
    ingest_clicks(capture, [clicked, bot])
    client = api_client(world.a.advertiser_key)
    with clock(posted):
        assert client.get("/api/v1/conversions").status_code == 200  # the key's use recorded: the fast path answers
    before = day_tables(network.pk)
    with clock(posted + timedelta(seconds=5)), monkeypatch.context() as patch, capture(execute=True):
        patch.setattr(ConversionViewSet, "create", lambda *a, **k: pytest.fail("the full view answered"))
        response = fast_post(client, "F-1", clicked["click_id"])
        refused = fast_post(client, "F-2", bot["click_id"])  # a bot's sale, rejected by the program's policy
    assert response.status_code == 201, response.content
    assert (refused.status_code, refused.json()["status"]) == (201, "rejected")
    night = date(2026, 10, 15)
    written = {key: sums for key, sums in day_tables(network.pk).items() if before.get(key) != sums}
    assert written == {
        ("ConversionDay", (network.pk, night, world.a.advertiser.pk, program.pk, world.a.affiliate.pk, "fast", "", "",
                           "", "", "DE", "EUR")): (1, 1, D("100")),  # through its click
        ("CommissionDay", (network.pk, night, world.a.advertiser.pk, program.pk, world.a.affiliate.pk, "fast", "",
                           "", "", "", "DE", "EUR")): (D("12"), D("10")),
        # The same differences per partnership (folded into both tables at once).
        ("ConversionPartnerDay", (network.pk, night, world.a.advertiser.pk, program.pk, world.a.affiliate.pk,
                                  "EUR")): (1, 1, D("100")),
        ("CommissionPartnerDay", (network.pk, night, world.a.advertiser.pk, program.pk, world.a.affiliate.pk,
                                  "EUR")): (D("12"), D("10")),
    }
    assert day_sums(ConversionDay, network, night, program=strict) == (0, 0)
    kept = assert_kept(network)

    with clock(posted + timedelta(seconds=10)), capture(execute=True):
        again = fast_post(client, "F-1", clicked["click_id"])  # the INSERT finds the order: the full view answers
    assert (again.status_code, again.json()["id"]) == (200, response.json()["id"])
    assert Conversion.objects.filter(network=network).count() == 2
    assert day_tables(network.pk) == kept
    assert_kept(network)
    assert_days_equal_the_raw_rows(network)


# --- 8. two networks ---------------------------------------------------------------------------------------------
def test_one_networks_writes_never_touch_anothers_day_rows(world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    a, b = in_zone(world.a), in_zone(world.b, "Europe/Berlin")
    _, a_link, _ = shop(world.a, rules=[SALE])
    _, b_link, b_link2 = shop(world.b, rules=[TIERED, {"event": "click", "kind": "fixed",
                                                               "payout": D("0.05")}],
                                      second_tier_percent=D("20"))
    world.b.affiliate.referred_by = world.b.affiliate2
    world.b.affiliate.save(update_fields=["referred_by"])
    # One batch of the ingester holds clicks of both networks.
    ingest_clicks(capture, [record(a_link, at(8, 3)), record(b_link, at(8, 3)), record(b_link2, at(8, 3, 5))])
    a_sale = sale(world.a, capture, a_link, at(8, 3, 30), "X-1")  # 23:30 on the 7th in New York
    kept_a = assert_kept(a)
    assert day_sums(CommissionDay, a, date(2026, 10, 7)) == (D("12"), D("10"))

    # Network b: the same order id, sales, a late attribution, refunds, decisions, CPC and the true-up.
    b_sales = [sale(world.b, capture, link, moment, "X-1" if n == 0 else f"X-{n + 1}")
               for n, (link, moment) in enumerate(((b_link, at(8, 3, 30)), (b_link, at(9, 12)),
                                                   (b_link2, at(10, 12)), (b_link, at(11, 22, 30))))]
    waiting = record(b_link, at(12, 9))
    pending = post(world.b, capture, at(12, 9, 2), "X-late", click_id=waiting["click_id"])
    with clock(at(12, 9, 4)):
        ingest_clicks(capture, [waiting])
    assert Conversion.objects.get(pk=pending["id"]).affiliate_id == world.b.affiliate.pk
    conversion_refund(network=b, conversion=b_sales[1], amount=D("40.00"))
    conversion_refund(network=b, conversion=b_sales[3])
    commission_reject(network=b, commission=commissions_of(b_sales[2])[0])
    commission_approve(network=b, commission=commissions_of(b_sales[0])[0])
    with capture(execute=True):
        assert cpc_accrue_task() == 6  # each (affiliate, hour) of b's clicks
        assert tier_trueups_run(now=AFTER_OCTOBER) == 2  # both affiliates of b's tiered program
    assert Commission.objects.filter(network=b, kind=Commission.Kind.ADJUSTMENT, tier=2).exists()
    assert Commission.objects.filter(network=b, kind=Commission.Kind.CLICK).exists()

    assert day_tables(a.pk) == kept_a
    assert day_sums(CommissionDay, a, date(2026, 10, 7)) == (D("12"), D("10"))
    assert Commission.objects.filter(network=a).get().conversion == a_sale
    assert_kept(a)
    assert_kept(b)
    assert day_sums(ConversionDay, b, date(2026, 10, 8)) == (1, D("100"))  # 05:30 in Berlin
    assert_days_equal_the_raw_rows(b)
