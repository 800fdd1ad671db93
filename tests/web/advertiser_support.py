"""Shared set-up of the advertiser page tests: a program with a partner's link, and a rival advertiser in the
same network (whose objects must answer 404 like another network's)."""

from dataclasses import dataclass
from decimal import Decimal

from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_advertiser, make_program


@dataclass
class Shop:
    program: object
    link: object
    rival: object
    rival_program: object
    other_program: object  # network b's


def make_shop(world) -> Shop:
    program, link = program_with_link(world.a, name="Outdoor Gear",
                                      rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10")}])
    rival, _ = make_advertiser(world.a.network, "Rival Shop", "rival@alpha.test")
    rival_program = make_program(rival, name="Rival Program")
    other_program = make_program(world.b.advertiser, name="Bravo Program")
    return Shop(program, link, rival, rival_program, other_program)


def sale(world, shop, order_id, amount="100.00", **fields):
    """A conversion of network a's advertiser, attributed to its partner, with its commission."""
    conversion, commissions = convert(world.a, shop.link, order_id, amount, **fields)
    return conversion, commissions[0] if commissions else None
