"""Corrections keep the sale's terms (`POST /api/v1/conversions/<id>/adjust`): the partner group the affiliate was
in when the commission was computed chooses the rules of the changed lines (not the group it is in today), and the
explanation still names that group; the ledger stays balanced per currency."""

from decimal import Decimal

import pytest

from commissions.models import Account, Commission, Transaction
from network import services as network_services
from tests.factories import make_group

from .helpers import assert_ledger_consistent, convert, owed, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
PENDING = Account.Kind.AFFILIATE_PENDING
RECEIVABLE = Account.Kind.ADVERTISER_RECEIVABLE


def _adjust(tenant, conversion, body):
    return tenant.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/adjust", body, format="json")


def _ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def _move(tenant, group):
    network_services.partner_group_assign(network=tenant.network, group=group, affiliates=[tenant.affiliate],
                                          actor=None)


def _explanation(tenant, commission):
    return tenant.client("advertiser").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]


@pytest.fixture
def groups(world):
    """Group A pays 10 %, group B 20 %, everyone else 5 % (whole orders and, by category, tents)."""
    network = world.a.network
    group_a, group_b = make_group(network, "A", world.a.affiliate), make_group(network, "B")
    rules = [{"event": "sale", "kind": "percent", "payout": D("5")}]
    for group, payout in ((group_a, D("10")), (group_b, D("20"))):
        rules += [{"event": "sale", "kind": "percent", "payout": payout, "group": group},
                  {"event": "sale", "kind": "percent", "payout": payout, "group": group,
                   "match": {"category": ["tents"]}}]
    return group_a, group_b, rules


def test_a_whole_order_correction_after_a_group_move_pays_the_group_of_the_sale(world, groups):
    group_a, group_b, rules = groups
    _, link = program_with_link(world.a, rules=rules)
    conversion, [commission] = convert(world.a, link, "g-1", "100.00")
    assert commission.amount == D("10.00") and commission.rule_snapshot["affiliate_group_id"] == group_a.pk
    _move(world.a, group_b)
    _, [today] = convert(world.a, link, "g-2", "100.00")
    assert today.amount == D("20.00")  # the move applies from the next conversion
    _ok(_adjust(world.a, conversion, {"amount": "200.00"}))
    commission.refresh_from_db()
    assert (commission.amount, commission.base_amount) == (D("20.00"), D("200.00"))  # 10 % of 200.00, not 20 %
    assert owed(PENDING, world.a.affiliate) == D("40.00")
    assert owed(RECEIVABLE, world.a.advertiser) == D("40.00")
    assert Transaction.objects.filter(kind="commission.adjusted", ref_id=str(commission.pk)).count() == 1
    rule = _explanation(world.a, commission)["rule"]
    assert (rule["source"], rule["group"]) == ("group", "A")
    assert_ledger_consistent()


def test_changed_lines_after_a_group_move_are_priced_with_the_group_of_the_sale(world, groups):
    group_a, group_b, rules = groups
    _, link = program_with_link(world.a, rules=rules)
    cart = [{"sku": "TENT-2P", "category": "tents", "amount": "100.00", "quantity": 1}]
    conversion, [commission] = convert(world.a, link, "g-1", "100.00", items=cart)
    assert commission.amount == D("10.00")
    _move(world.a, group_b)
    new_cart = [{"sku": "TENT-2P", "category": "tents", "amount": "150.00", "quantity": 1},
                {"sku": "TENT-3P", "category": "tents", "amount": "50.00", "quantity": 1}]
    _ok(_adjust(world.a, conversion, {"items": new_cart}))
    commission.refresh_from_db()
    lines = commission.rule_snapshot["items"]
    assert [(line["sku"], line["rate"], line["commission"], line["group"]) for line in lines] == [
        ("TENT-2P", "10", "15", "A"), ("TENT-3P", "10", "5", "A")]
    assert commission.amount == D("20.00")
    assert owed(PENDING, world.a.affiliate) == D("20.00")
    explained = _explanation(world.a, commission)
    assert all("“A”" in line["reason"] for line in explained["items"])
    assert_ledger_consistent()


def test_an_affiliate_in_no_group_at_the_sale_keeps_the_default_rule_after_joining_one(world, groups):
    _group_a, group_b, rules = groups
    _move(world.a, None)
    _, link = program_with_link(world.a, rules=rules)
    cart = [{"sku": "TENT-2P", "category": "tents", "amount": "100.00", "quantity": 1}]
    conversion, [commission] = convert(world.a, link, "g-1", "100.00", items=cart)
    assert commission.amount == D("5.00") and commission.rule_snapshot["affiliate_group_id"] is None
    _move(world.a, group_b)
    _ok(_adjust(world.a, conversion, {"items": [{**cart[0], "amount": "300.00"}], "amount": "300.00"}))
    commission.refresh_from_db()
    assert commission.amount == D("15.00")  # the default 5 %, not group B's 20 %
    assert [(line["rate"], line["group"]) for line in commission.rule_snapshot["items"]] == [("5", "")]
    assert owed(PENDING, world.a.affiliate) == D("15.00")
    assert_ledger_consistent()


def test_a_bad_correction_after_a_group_move_is_400_and_changes_nothing(world, groups):
    _group_a, group_b, rules = groups
    _, link = program_with_link(world.a, rules=rules)
    conversion, [commission] = convert(world.a, link, "g-1", "100.00")
    _move(world.a, group_b)
    response = _adjust(world.a, conversion, {"amount": "-5"})
    assert response.status_code == 400 and "amount" in response.json()
    commission.refresh_from_db()
    assert (commission.amount, commission.status) == (D("10.00"), Commission.Status.PENDING)
    assert not Transaction.objects.filter(kind="commission.adjusted").exists()
    assert owed(PENDING, world.a.affiliate) == D("10.00")
