"""Corrections keep the sale's terms (`POST /api/v1/conversions/<id>/adjust`): the partner group the affiliate was
in when the commission was computed chooses the rules of the changed lines (not the group it is in today), and the
explanation still names that group. With `tier_basis: "amount"` a sale corrected in a trued-up period is paid at the
tier the corrected period reaches, and so are the period's other commissions. The ledger stays balanced."""

from datetime import timedelta
from decimal import Decimal

import pytest

from commissions.models import Account, Commission, TierTrueUp, Transaction
from commissions.trueup import tier_trueups_run
from network import services as network_services
from tests.factories import make_group

from .helpers import assert_ledger_consistent, convert, owed, program_with_link
from .test_tiers_trueup import AFTER_OCTOBER, OCTOBER, RULE

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


# --- tier_basis "amount": the corrected sale is paid at the tier its corrected period reaches ----------------------
AMOUNT_RULE = RULE | {"tier_basis": "amount", "tiers": [{"min_amount": "250", "payout": "10"}]}


def _october(tenant, link, amounts):
    return [convert(tenant, link, f"oct-{i}", amount, created_at=OCTOBER + timedelta(hours=i))[1][0]
            for i, amount in enumerate(amounts)]


def _pair(commission):
    """What a commission and its true-up adjustment pay together now."""
    commission.refresh_from_db()
    adjustments = Commission.objects.filter(adjusts=commission)
    return commission.remaining_amount + sum((a.remaining_amount for a in adjustments), D(0))


def test_a_correction_below_the_threshold_stops_paying_the_tier_on_the_corrected_sale(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    made = _october(world.a, link, ["100", "100", "100"])  # 0, 100, 200 before them: all at 8 %
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1  # 300 reached: 10 %, an adjustment of 2.00 each
    assert owed(PENDING, world.a.affiliate) == D("30.00")
    first = made[0]
    _ok(_adjust(world.a, first.conversion, {"amount": "20.00"}))  # the period's sales: 220, below 250
    adjustment = Commission.objects.get(adjusts=first)
    assert (Commission.objects.get(pk=first.pk).amount, adjustment.amount) == (D("1.60"), D("0.00"))
    assert _pair(first) == D("1.60")  # 8 % of 20.00: the tier is no longer paid on this sale
    assert [_pair(c) for c in made[1:]] == [D("8.00"), D("8.00")]  # the others are re-trued at 8 % too
    assert owed(PENDING, world.a.affiliate) == D("17.60")
    assert owed(RECEIVABLE, world.a.advertiser) == D("17.60")
    assert TierTrueUp.objects.get().amount == D("220")
    change = _explanation(world.a, adjustment)["order_changes"][-1]
    assert change["tier"]["amount_in_period_before"] == "300.00" and change["tier"]["amount_in_period"] == "220.00"
    assert (change["tier"]["rate_before"], change["tier"]["rate"]) == ("10", "8")
    assert "other commissions are paid that rate too" in change["tier"]["reason"]
    assert_ledger_consistent()


def test_corrections_of_a_trued_up_period_add_up_and_pay_the_tier_again_above_the_threshold(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, *_ = _october(world.a, link, ["100", "100", "100"])
    tier_trueups_run(now=AFTER_OCTOBER)
    _ok(_adjust(world.a, first.conversion, {"amount": "80.00"}))  # 280: still the 10 % tier
    assert _pair(first) == D("8.00")
    _ok(_adjust(world.a, first.conversion, {"amount": "20.00"}))  # 220: below it
    assert _pair(first) == D("1.60")
    _ok(_adjust(world.a, first.conversion, {"amount": "100.00"}))  # 300 again: the tier is paid again
    assert _pair(first) == D("10.00")
    assert owed(PENDING, world.a.affiliate) == D("30.00")
    assert TierTrueUp.objects.get().amount == D("300")
    # Three corrections, each moving the commission and its adjustment; the two crossing the threshold also move
    # the adjustments of the period's two other sales (down to 8 %, then back to 10 %).
    assert Transaction.objects.filter(kind="commission.adjusted").count() == 10
    assert_ledger_consistent()


def test_a_reduced_commission_corrected_above_the_threshold_gets_the_tier_back(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second = _october(world.a, link, ["300", "100"])  # 8 % of 300.00, then 10 % of 100.00
    refund = world.a.client("advertiser").post(f"/api/v1/conversions/{first.conversion_id}/refund",
                                                {"amount": "200.00"}, format="json")
    assert refund.status_code == 200, refund.content
    tier_trueups_run(now=AFTER_OCTOBER)  # 100 + 100 net: below 250, the second is reduced to 8 %
    second.refresh_from_db()
    assert second.rule_snapshot["trued_down"]["amount"] == "2.00" and second.remaining_amount == D("8.00")
    _ok(_adjust(world.a, second.conversion, {"amount": "200.00"}))  # 300 net: the 10 % tier again
    second.refresh_from_db()
    assert (second.amount, second.reversed_amount, second.remaining_amount) == (D("20.00"), D("0.00"), D("20.00"))
    assert second.rule_snapshot["trueup"]["rate"] == "10"
    # The first is re-trued at 10 % too: 8.00 left of it and 2.00 of its new adjustment (6.00, two thirds
    # refunded), 20.00.
    assert owed(PENDING, world.a.affiliate) == D("30.00")
    assert_ledger_consistent()


def test_the_conversions_basis_keeps_the_trued_up_rate_whatever_the_amount(world):
    _, link = program_with_link(world.a, rules=[RULE])
    first, *others = _october(world.a, link, ["100", "100", "100", "100"])  # 8 % x 3, then 10 %
    tier_trueups_run(now=AFTER_OCTOBER)
    _ok(_adjust(world.a, first.conversion, {"amount": "20.00"}))
    assert _pair(first) == D("2.00")  # still four conversions: 10 %
    assert [_pair(c) for c in others] == [D("10.00")] * 3  # and no re-true of the others
    assert not Transaction.objects.filter(kind__in=["commission.trued_down"]).exists()
    assert TierTrueUp.objects.get().amount == D("320")
    assert_ledger_consistent()
