"""A small, hand-countable report world in network a (Europe/Berlin): two advertisers' programs in EUR and one
in USD, two affiliates, rollups, conversions and commissions at known hours."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from commissions.models import Commission
from reports.rebuild import days_rebuild
from tests.factories import make_advertiser, make_conversion, make_link, make_partnership, make_program
from tracking.models import ClickRollup, Conversion


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Seeded:
    p1: object
    p2: object
    p3: object
    a1: object
    a2: object


def rollup(program, affiliate, hour, clicks, unique, **dims):
    """An hourly rollup written around the ingester; the day tables are rebuilt from it (reports.rebuild)."""
    row = ClickRollup.objects.create(network_id=program.network_id, program=program, affiliate=affiliate, hour=hour,
                                     clicks=clicks, unique_clicks=unique, bot_clicks=clicks - unique, **dims)
    days_rebuild(program.network_id)
    return row


def sale(link, order_id, created_at, *, amount, payout, revenue, status="approved", rev_payout="0", rev_revenue="0",
         conversion_status="accepted", **dims):
    program = link.program
    conversion = make_conversion(program.advertiser, order_id=order_id, amount=amount, currency=program.currency,
                                 link=link, status=conversion_status, **dims)
    Conversion.objects.filter(pk=conversion.pk).update(created_at=created_at)
    Commission.objects.create(
        network_id=program.network_id, kind="sale", status=status, program=program, advertiser=program.advertiser,
        affiliate_id=link.affiliate_id, conversion=conversion, currency=program.currency, amount=Decimal(payout),
        revenue=Decimal(revenue), reversed_amount=Decimal(rev_payout), reversed_revenue=Decimal(rev_revenue),
    )
    days_rebuild(program.network_id)  # back-dated rows written around the services
    return conversion


@pytest.fixture
def seeded(world) -> Seeded:
    net = world.a.network
    net.timezone = "Europe/Berlin"
    net.save(update_fields=["timezone"])
    other, _ = make_advertiser(net, "Other Shop", "other@alpha.test")
    p1 = make_program(world.a.advertiser, name="Tents")
    p2 = make_program(other, name="Boots")
    p3 = make_program(world.a.advertiser, name="US Tents", currency="USD")
    a1, a2 = world.a.affiliate, world.a.affiliate2
    l11, l12 = make_link(make_partnership(p1, a1)), make_link(make_partnership(p1, a2))
    l21, l31 = make_link(make_partnership(p2, a1)), make_link(make_partnership(p3, a1))
    rollup(p1, a1, at(10, 9), 10, 8, sub1="fb", sub2="x", country="DE")
    rollup(p1, a2, at(10, 23), 5, 5, sub1="ig", country="FR")  # 00:00 on the 11th in Berlin
    rollup(p2, a1, at(12, 10), 20, 15, sub1="fb", country="DE")
    rollup(p3, a1, at(12, 10), 7, 7, sub1="fb", country="US")  # USD: not in EUR reports
    rollup(p1, a1, at(9, 22), 100, 100, sub1="fb", country="DE")  # 23:00 on the 9th in Berlin: out of range
    sale(l11, "O-1", at(10, 10), amount="80.00", payout="5.00", revenue="8.00", sub1="fb", sub2="x", country="DE")
    sale(l12, "O-2", at(10, 23, 30), amount="40.00", payout="3.00", revenue="4.00", status="pending",
         rev_payout="1.00", rev_revenue="1.50", sub1="ig", country="FR")
    sale(l21, "O-3", at(12, 11), amount="120.00", payout="10.00", revenue="12.00", sub1="fb", country="DE")
    sale(l11, "O-4", at(12, 12), amount="999.00", payout="100.00", revenue="100.00", status="rejected",
         conversion_status="rejected", sub1="fb", country="DE")
    sale(l31, "O-5", at(12, 12), amount="50.00", payout="4.00", revenue="6.00", sub1="fb", country="US")
    return Seeded(p1=p1, p2=p2, p3=p3, a1=a1, a2=a2)
