"""The dashboards' figures (`reports.figures`) and the one local-day window (`core.days.local_day_bounds`): local
days across DST changes and in half-hour zones, the edges of the range, each party's scope and two networks."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from commissions.models import Commission
from core.days import local_day_bounds, local_today
from network.models import Affiliate
from programs.models import Partnership
from reports.figures import daily_series, kpis, overview_query, owed, partnership_figures
from reports.rebuild import days_rebuild
from tests.factories import make_conversion, make_link, make_partnership, make_program
from tracking.models import ClickRollup, Conversion

from .conftest import at, rollup

pytestmark = pytest.mark.django_db
D = Decimal


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- local_day_bounds ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("tz", "day", "start", "end"), [
    ("UTC", date(2026, 11, 12), utc(2026, 11, 12), utc(2026, 11, 13)),
    # Europe/Berlin springs forward on 29 March 2026 (a 23-hour day) and falls back on 25 October (25 hours).
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
    ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
    # A half-hour zone: the day starts at 18:30 UTC the day before.
    ("Asia/Kolkata", date(2026, 11, 12), utc(2026, 11, 11, 18, 30), utc(2026, 11, 12, 18, 30)),
    # Chile springs forward at midnight: 00:00 never happens on 6 September 2026, the day starts at 01:00 local.
    ("America/Santiago", date(2026, 9, 6), utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)),
    # Cuba falls back at 01:00 to midnight: the day starts at the first midnight and lasts 25 hours.
    ("America/Havana", date(2026, 11, 1), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
    ("Pacific/Kiritimati", date(2026, 11, 12), utc(2026, 11, 11, 10), utc(2026, 11, 12, 10)),
])
def test_local_day_bounds_are_the_local_midnights_of_the_day(tz, day, start, end):
    assert local_day_bounds(day, tz=tz) == (start, end)
    # The same instants whether the zone is given by name or as a tzinfo, and next to the following day.
    assert local_day_bounds(day, tz=ZoneInfo(tz)) == (start, end)
    assert local_day_bounds(day + timedelta(days=1), tz=tz)[0] == end


def test_local_day_bounds_of_a_range_run_from_the_first_days_start_to_the_last_days_end():
    start, end = local_day_bounds(date(2026, 10, 20), date(2026, 10, 26), tz="Europe/Berlin")
    assert (start, end) == (utc(2026, 10, 19, 22), utc(2026, 10, 26, 23))
    assert end - start == timedelta(days=7, hours=1)  # one 25-hour day inside


def test_local_today_is_the_networks_date():
    now = utc(2026, 11, 11, 18, 45)  # 00:15 on the 12th in Kolkata, still the 11th in UTC and Berlin
    assert local_today("Asia/Kolkata", now=now) == date(2026, 11, 12)
    assert local_today("Europe/Berlin", now=now) == date(2026, 11, 11)
    assert local_today("Pacific/Kiritimati", now=now) == date(2026, 11, 12)


# --- daily_series and kpis ------------------------------------------------------------------------------------------
def _commissions_written_with_their_sales(network):
    """The report world's commissions were written now; an overview puts money on the day it was written."""
    for commission in Commission.objects.for_network(network).select_related("conversion"):
        Commission.objects.filter(pk=commission.pk).update(created_at=commission.conversion.created_at)


def q_for(membership, **kwargs):
    return overview_query(network=membership.network, membership=membership, today=date(2026, 11, 12), days=5,
                          **kwargs)


def test_the_operators_series_covers_every_local_day_of_the_range_in_the_networks_zone(world, seeded):
    _commissions_written_with_their_sales(world.a.network)
    series = daily_series(q_for(world.a.owner), ["clicks", "unique_clicks", "conversions", "revenue", "payout",
                                                 "profit"])
    assert series["days"] == [date(2026, 11, 8), date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11),
                              date(2026, 11, 12)]
    # 22:00 UTC on the 9th is the 9th in Berlin; 23:00 UTC on the 10th is the 11th; clicks of every currency.
    assert series["clicks"] == [0, 100, 10, 5, 27] and series["unique_clicks"] == [0, 100, 8, 5, 22]
    assert series["conversions"] == [0, 0, 1, 1, 2]  # the rejected one does not count; the USD one does
    # Money in the network's currency (EUR), net of reversals; the rejected commission was never owed.
    assert series["revenue"] == [D("0.00"), D("0.00"), D("8.00"), D("2.50"), D("12.00")]
    assert series["payout"] == [D("0.00"), D("0.00"), D("5.00"), D("2.00"), D("10.00")]
    assert series["profit"] == [D("0.00"), D("0.00"), D("3.00"), D("0.50"), D("2.00")]
    assert [str(value) for value in series["revenue"]][0] == "0.00"
    totals = kpis(q_for(world.a.owner), ["clicks", "conversions", "revenue", "payout", "profit"])
    assert totals == {"clicks": 142, "conversions": 4, "revenue": D("22.50"), "payout": D("17.00"),
                      "profit": D("5.50")}


def test_amounts_per_currency_and_in_another_currency(world, seeded):
    _commissions_written_with_their_sales(world.a.network)
    series = daily_series(q_for(world.a.owner), ["revenue", "profit"], per_currency=True)
    assert list(series["revenue"]) == ["EUR", "USD"]
    assert series["revenue"]["USD"] == [D("0.00")] * 4 + [D("6.00")]
    assert series["profit"]["USD"] == [D("0.00")] * 4 + [D("2.00")]
    assert kpis(q_for(world.a.owner, currency="USD"), ["payout", "clicks"]) == {"payout": D("4.00"), "clicks": 142}
    totals = kpis(q_for(world.a.owner), ["revenue"], per_currency=True)["revenue"]
    assert list(totals.items()) == [("EUR", D("22.50")), ("USD", D("6.00"))]  # largest first


def test_each_party_sees_its_own_figures(world, seeded):
    _commissions_written_with_their_sales(world.a.network)
    advertiser = world.a.advertiser.membership  # owns Tents (EUR) and US Tents (USD), not Boots
    series = daily_series(q_for(advertiser), ["clicks", "conversions", "sales"], per_currency=True)
    assert series["clicks"] == [0, 100, 10, 5, 7] and series["conversions"] == [0, 0, 1, 1, 1]
    assert series["sales"] == {"EUR": [D("0.00")] * 2 + [D("80.00"), D("40.00"), D("0.00")],
                               "USD": [D("0.00")] * 4 + [D("50.00")]}
    affiliate = seeded.a2.membership
    assert kpis(q_for(affiliate), ["clicks", "conversions", "payout"]) == {"clicks": 5, "conversions": 1,
                                                                          "payout": D("2.00")}


def test_unattributed_and_held_conversions_count_and_rejected_ones_do_not(world, seeded):
    advertiser = world.a.advertiser
    for order_id, status in (("U-1", "accepted"), ("H-1", "held"), ("X-1", "rejected")):
        conversion = make_conversion(advertiser, order_id=order_id, amount="10.00", status=status)
        Conversion.objects.filter(pk=conversion.pk).update(created_at=at(12, 8))
    days_rebuild(advertiser.network_id)  # back-dated around the services
    totals = kpis(q_for(advertiser.membership), ["conversions", "sales"])
    assert totals == {"conversions": 5, "sales": D("140.00")}  # O-1, O-2, U-1, H-1 in EUR, and O-5 in USD


def test_the_range_starts_and_ends_at_local_midnight_in_a_half_hour_zone(world):
    network = world.a.network
    network.timezone = "Asia/Kolkata"
    network.save(update_fields=["timezone"])
    program = make_program(world.a.advertiser)
    link = make_link(make_partnership(program, world.a.affiliate))
    moments = {"before": utc(2026, 11, 7, 18, 29), "first": utc(2026, 11, 7, 18, 30),
               "late": utc(2026, 11, 11, 18, 29), "next": utc(2026, 11, 11, 18, 30),
               "after": utc(2026, 11, 12, 18, 30)}
    for order_id, moment in moments.items():
        conversion = make_conversion(world.a.advertiser, order_id=order_id, amount="1.00", link=link)
        Conversion.objects.filter(pk=conversion.pk).update(created_at=moment)
    days_rebuild(network.pk)  # back-dated around the services
    series = daily_series(q_for(world.a.owner), ["conversions"])
    assert series["days"][0] == date(2026, 11, 8) and series["days"][-1] == date(2026, 11, 12)
    assert series["conversions"] == [1, 0, 0, 1, 1]  # 18:29 UTC on the 7th is the 7th; the 12th ends at 18:30


def test_a_day_that_lasts_25_hours_keeps_its_last_hour(world):
    network = world.a.network
    network.timezone = "Europe/Berlin"
    network.save(update_fields=["timezone"])
    program = make_program(world.a.advertiser)
    for hour, clicks in ((utc(2026, 10, 24, 21), 1), (utc(2026, 10, 24, 22), 10), (utc(2026, 10, 25, 22), 100),
                         (utc(2026, 10, 25, 23), 1000)):
        rollup(program, world.a.affiliate, hour, clicks, clicks)
    q = overview_query(network=network, membership=world.a.owner, today=date(2026, 10, 26), days=3)
    assert daily_series(q, ["clicks"]) == {"days": [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)],
                                           "clicks": [1, 110, 1000]}


def test_another_networks_rows_never_count(world, seeded):
    b = world.b
    program = make_program(b.advertiser)
    ClickRollup.objects.create(network=b.network, hour=at(12, 10), program=program, affiliate=b.affiliate,
                               clicks=999, unique_clicks=999)
    conversion = make_conversion(b.advertiser, order_id="O-1", amount="999.00")
    Conversion.objects.filter(pk=conversion.pk).update(created_at=at(12, 10))
    days_rebuild(b.network.pk)  # written around the ingester and back-dated
    assert kpis(q_for(world.a.owner), ["clicks", "conversions"]) == {"clicks": 142, "conversions": 4}
    assert kpis(q_for(b.owner), ["clicks", "conversions", "revenue"]) == {"clicks": 999, "conversions": 1,
                                                                          "revenue": D("0.00")}


def test_new_affiliates_per_local_day(world):
    network = world.a.network
    network.timezone = "Asia/Kolkata"
    network.save(update_fields=["timezone"])
    Affiliate.objects.filter(pk=world.a.affiliate.pk).update(created_at=utc(2026, 11, 11, 18, 30))  # the 12th
    Affiliate.objects.filter(pk=world.a.affiliate2.pk).update(created_at=utc(2026, 11, 11, 18, 29))  # the 11th
    Affiliate.objects.filter(pk=world.b.affiliate.pk).update(created_at=utc(2026, 11, 11, 20))
    assert daily_series(q_for(world.a.owner), ["new_affiliates"])["new_affiliates"] == [0, 0, 0, 1, 1]


def test_owed_adds_each_status_per_currency_whatever_the_days(world, seeded):
    advertiser = world.a.advertiser.membership
    q = q_for(advertiser)
    assert owed(q, ["pending", "on_hold"]) == {"EUR": D("2.00")}  # O-2: 3.00 less 1.00 reversed
    assert owed(q, ["approved"]) == {"USD": D("4.00"), "EUR": D("5.00")} and list(owed(q, ["approved"])) == [
        "EUR", "USD"]
    assert owed(q_for(world.b.owner), ["approved"]) == {}


def test_partnership_figures_are_all_time_and_in_the_membership_scope(world, seeded):
    partnerships = {(p.program_id, p.affiliate_id): p for p in Partnership.objects.for_network(world.a.network)}
    pages = [partnerships[seeded.p1.pk, seeded.a1.pk], partnerships[seeded.p1.pk, seeded.a2.pk],
             partnerships[seeded.p2.pk, seeded.a1.pk], partnerships[seeded.p3.pk, seeded.a1.pk]]
    mine = partnership_figures(network=world.a.network, membership=world.a.advertiser.membership, partnerships=pages)
    assert [mine[p.pk] for p in pages] == [
        {"clicks": 110, "conversions": 1, "earned": [("EUR", D("5.00"))]},  # the rejected O-4 counts for nothing
        {"clicks": 5, "conversions": 1, "earned": [("EUR", D("2.00"))]},
        {"clicks": 0, "conversions": 0, "earned": []},  # another advertiser's program
        {"clicks": 7, "conversions": 1, "earned": [("USD", D("4.00"))]},
    ]
    everything = partnership_figures(network=world.a.network, membership=world.a.owner, partnerships=pages)
    assert everything[pages[2].pk] == {"clicks": 20, "conversions": 1, "earned": [("EUR", D("10.00"))]}
    assert partnership_figures(network=world.a.network, membership=world.a.owner, partnerships=[]) == {}


def test_an_unknown_figure_is_refused(world):
    with pytest.raises(ValueError, match="Unknown figure"):
        kpis(q_for(world.a.owner), ["clicks", "bogus"])
