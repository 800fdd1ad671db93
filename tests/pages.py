"""What the page tests share: a logged-in browser-like client for a member, and the advertiser pages' shop (a
program with a partner's link, and a rival advertiser in the same network whose objects must answer 404 like
another network's). The `web` fixture (tests/conftest.py) builds on `web_client`."""

from dataclasses import dataclass
from decimal import Decimal

from django.test import Client

from network.auth import SESSION_NETWORK_KEY
from network.models import Membership
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_advertiser, make_program


def web_client(member, *, enforce_csrf_checks: bool = False) -> Client:
    """A Client logged in as a membership (or a party's membership), acting in its network."""
    membership = member if isinstance(member, Membership) else member.membership
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_NETWORK_KEY] = membership.network_id
    session.save()
    return client


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
