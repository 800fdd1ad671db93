"""Rule precedence (affiliate > group > default), performance tier selection and the one pricing function."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commissions.rules import commission_amounts, rule_for, rule_price, second_tier_amount, tier_payout
from programs.models import CommissionRule, tier_level, tier_rate
from tests.factories import make_group, make_program

pytestmark = pytest.mark.django_db


def _rule(program, payout, **fields):
    return CommissionRule.objects.create(network_id=program.network_id, program=program, event="sale",
                                         kind="percent", payout=Decimal(payout), **fields)


def test_rule_precedence_affiliate_over_group_over_default(world):
    program = make_program(world.a.advertiser, rules=[])
    gold, plain = world.a.affiliate, world.a.affiliate2
    gold_group = make_group(world.a.network, "gold", gold)
    gold.refresh_from_db()
    assert rule_for(program=program, event="sale", affiliate=gold) is None
    default = _rule(program, "5")
    assert rule_for(program=program, event="sale", affiliate=gold) == default
    group = _rule(program, "7", group=gold_group)
    assert rule_for(program=program, event="sale", affiliate=gold) == group
    assert rule_for(program=program, event="sale", affiliate=plain) == default
    override = _rule(program, "9", affiliate=gold)
    assert rule_for(program=program, event="sale", affiliate=gold) == override
    assert rule_for(program=program, event="sale", affiliate=plain) == default
    assert rule_for(program=program, event="sale", affiliate=None) == default


def test_rules_of_other_events_groups_and_affiliates_do_not_apply(world):
    program = make_program(world.a.advertiser, rules=[])
    _rule(program, "7", group=make_group(world.a.network, "silver", world.a.affiliate2))
    _rule(program, "9", affiliate=world.a.affiliate2)
    lead = CommissionRule.objects.create(network_id=program.network_id, program=program, event="lead",
                                         kind="fixed", payout=Decimal("2"))
    assert rule_for(program=program, event="sale", affiliate=world.a.affiliate) is None
    assert rule_for(program=program, event="lead", affiliate=world.a.affiliate) == lead


def test_the_newest_rule_for_the_same_target_wins(world):
    program = make_program(world.a.advertiser, rules=[])
    _rule(program, "5")
    newer = _rule(program, "6")
    assert rule_for(program=program, event="sale", affiliate=world.a.affiliate) == newer


TIERS = [{"min_conversions": 10, "payout": "12"}, {"min_conversions": 50, "payout": "15.5"}]


@pytest.mark.parametrize(("conversions", "expected"), [
    (0, "10"), (9, "10"), (10, "12"), (11, "12"), (49, "12"), (50, "15.5"), (10_000, "15.5"),
])
def test_tier_payout_boundaries(conversions, expected):
    rule = CommissionRule(kind="percent", payout=Decimal("10"), tiers=TIERS)
    assert tier_payout(rule, conversions) == Decimal(expected)


def test_tier_payout_without_tiers_is_the_rule_payout():
    assert tier_payout(CommissionRule(kind="fixed", payout=Decimal("4.50"), tiers=[]), 1000) == Decimal("4.50")


def test_tier_payout_reads_unsorted_tiers_in_order():
    rule = CommissionRule(kind="fixed", payout=Decimal("1"), tiers=list(reversed(TIERS)))
    assert tier_payout(rule, 20) == Decimal("12")
    assert tier_payout(rule, 0) == Decimal("1")


def test_a_zero_threshold_tier_replaces_the_base_rate():
    rule = CommissionRule(kind="fixed", payout=Decimal("1"), tiers=[{"min_conversions": 0, "payout": "2"}])
    assert tier_payout(rule, 0) == Decimal("2")


@given(
    base=st.decimals(min_value=0, max_value=100, places=2),
    thresholds=st.lists(st.integers(min_value=0, max_value=500), max_size=6, unique=True),
    payouts=st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=6, max_size=6),
    conversions=st.integers(min_value=0, max_value=600),
)
def test_tier_payout_is_the_rate_of_the_highest_tier_reached(base, thresholds, payouts, conversions):
    tiers = [{"min_conversions": m, "payout": str(p)} for m, p in zip(sorted(thresholds), payouts, strict=False)]
    rule = CommissionRule(kind="percent", payout=base, tiers=list(reversed(tiers)))
    reached = [t for t in tiers if t["min_conversions"] <= conversions]
    expected = Decimal(reached[-1]["payout"]) if reached else base
    assert tier_payout(rule, conversions) == expected


def test_amount_basis_tiers_are_read_by_their_min_amount():
    tiers = [{"min_amount": "5000", "payout": "10"}, {"min_amount": "1250.50", "payout": "8"}]
    assert [tier_level(tiers, reached) for reached in ("0", "1250.49", "1250.50", "4999.99", "5000")] == [0, 0, 1, 1, 2]
    assert tier_rate(payout="5", tiers=tiers, reached="1300") == Decimal("8")


def test_one_pricing_for_percent_fixed_per_click_and_second_tier():
    rule = CommissionRule(pk=7, event="sale", kind="percent", payout=Decimal("10"), revenue=Decimal("12"))
    assert rule_price(rule, rate=Decimal("10"), base=Decimal("33.33"), currency="EUR", details={"rate": "10"}) == (
        Decimal("3.33"), Decimal("4.00"),
        {"rule_id": 7, "event": "sale", "kind": "percent", "payout": "10", "revenue": "12", "rate": "10"})
    click = CommissionRule(event="click", kind="fixed", payout=Decimal("0.004"))
    # Per click: cumulative over units, quantized, revenue following the payout when the rule sets none.
    assert rule_price(click, rate=Decimal("0.004"), base=Decimal(0), currency="EUR", units=1000)[:2] == (
        Decimal("4.00"), Decimal("4.00"))
    assert commission_amounts(kind="fixed", rate=Decimal("2.5"), revenue_rate=None, base=Decimal(0),
                              currency="JPY", units=3) == (Decimal("8"), Decimal("8"))
    assert second_tier_amount(parent_amount=Decimal("3.35"), percent="10", currency="EUR") == Decimal("0.34")
