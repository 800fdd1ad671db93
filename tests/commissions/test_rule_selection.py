"""Rule precedence (affiliate > group > default) and performance tier selection."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commissions.rules import rule_for, tier_payout
from programs.models import CommissionRule
from tests.factories import make_program

pytestmark = pytest.mark.django_db


def _rule(program, payout, **fields):
    return CommissionRule.objects.create(network_id=program.network_id, program=program, event="sale",
                                         kind="percent", payout=Decimal(payout), **fields)


def test_rule_precedence_affiliate_over_group_over_default(world):
    program = make_program(world.a.advertiser, rules=[])
    gold, plain = world.a.affiliate, world.a.affiliate2
    gold.group = "gold"
    gold.save()
    assert rule_for(program=program, event="sale", affiliate=gold) is None
    default = _rule(program, "5")
    assert rule_for(program=program, event="sale", affiliate=gold) == default
    group = _rule(program, "7", group="gold")
    assert rule_for(program=program, event="sale", affiliate=gold) == group
    assert rule_for(program=program, event="sale", affiliate=plain) == default
    override = _rule(program, "9", affiliate=gold)
    assert rule_for(program=program, event="sale", affiliate=gold) == override
    assert rule_for(program=program, event="sale", affiliate=plain) == default
    assert rule_for(program=program, event="sale", affiliate=None) == default


def test_rules_of_other_events_groups_and_affiliates_do_not_apply(world):
    program = make_program(world.a.advertiser, rules=[])
    _rule(program, "7", group="silver")
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
