"""Rule evaluation: percent, fixed, margin, precedence, tiers at their boundaries, two-tier, recurring, rounding."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from commissions.models import Account, Commission, LedgerEntry
from commissions.rules import add_months
from commissions.services import (
    commission_approve,
    commission_reject,
    commissions_for_conversion,
    commissions_reverse_for_refund,
)
from tests.factories import make_affiliate, make_conversion, make_group, make_link, make_partnership

from .helpers import assert_ledger_consistent, convert, owed, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal


def test_percent_rule_pays_a_share_of_the_order(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    _, [commission] = convert(world.a, link, "o-1", "49.90")
    assert (commission.amount, commission.revenue, commission.currency) == (D("4.99"), D("4.99"), "EUR")
    assert commission.status == "pending" and commission.kind == "sale" and commission.tier == 1
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("4.99")
    assert owed(Account.Kind.ADVERTISER_RECEIVABLE, world.a.advertiser) == D("4.99")
    assert_ledger_consistent()


def test_fixed_rule_with_revenue_books_the_network_margin(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "lead", "kind": "fixed", "payout": D("5"), "revenue": D("7.50")}])
    _, [commission] = convert(world.a, link, "lead-1", "0", event="lead")
    assert (commission.amount, commission.revenue) == (D("5.00"), D("7.50"))
    margin = Account.objects.get(kind=Account.Kind.NETWORK_REVENUE, network=world.a.network)
    assert -margin.balance == D("2.50")
    assert owed(Account.Kind.ADVERTISER_RECEIVABLE, world.a.advertiser) == D("7.50")
    assert_ledger_consistent()


def test_percent_rule_with_percent_revenue(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("15")}])
    _, [commission] = convert(world.a, link, "o-1", "200.00")
    assert (commission.amount, commission.revenue) == (D("20.00"), D("30.00"))


def test_no_rule_for_the_event_or_no_affiliate_means_no_commission(world):
    program, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    assert convert(world.a, link, "lead-1", "10", event="lead")[1] == []
    unattributed = make_conversion(world.a.advertiser, order_id="u-1", amount=D("10"))
    assert commissions_for_conversion(conversion_id=unattributed.pk) == []
    assert not Commission.objects.exists() and not LedgerEntry.objects.exists()


def test_affiliate_override_beats_group_beats_default(world):
    gold = make_group(world.a.network, "gold", world.a.affiliate2)
    program, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10")},
        {"event": "sale", "kind": "percent", "payout": D("12"), "group": gold},
        {"event": "sale", "kind": "percent", "payout": D("20"), "affiliate": world.a.affiliate},
    ])
    gold_link = make_link(make_partnership(program, world.a.affiliate2))
    assert convert(world.a, link, "o-1", "100")[1][0].amount == D("20.00")
    assert convert(world.a, gold_link, "o-2", "100")[1][0].amount == D("12.00")


def test_rule_snapshot_survives_later_rule_edits(world):
    program, link = program_with_link(world.a)
    _, [commission] = convert(world.a, link, "o-1", "100")
    program.rules.update(payout=D("50"))
    commission.refresh_from_db()
    assert commission.amount == D("10.00") and commission.rule_snapshot["rate"] == "10"


@pytest.mark.parametrize(("currency", "amount", "expected"), [
    ("EUR", "10.00", D("3.33")),   # 3.3333 -> 3.33
    ("JPY", "1000", D("333")),     # 333.33 -> 333 (no minor units)
    ("KWD", "10.000", D("3.333")),  # 3.3333 -> 3.333 (three minor units)
    ("EUR", "0.20", D("0.07")),    # 0.066666 -> 0.07 (half up)
])
def test_commission_is_quantized_to_the_currency_minor_units(world, currency, amount, expected):
    _, link = program_with_link(world.a, currency=currency,
                                rules=[{"event": "sale", "kind": "percent", "payout": D("33.333")}])
    _, [commission] = convert(world.a, link, "o-1", amount, currency=currency)
    assert commission.amount == expected and commission.currency == currency
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate, currency) == expected
    assert_ledger_consistent()


def test_half_cent_rounds_half_up(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("12.5")}])
    assert convert(world.a, link, "o-1", "0.20")[1][0].amount == D("0.03")  # 0.025


_orders = itertools.count()


def _history(tenant, link, count, when, *, approve=False):
    for _ in range(count):
        _, [commission] = convert(tenant, link, f"h-{next(_orders)}", "100", created_at=when)
        if approve:
            commission_approve(network=tenant.network, commission=commission)


TIERED = [{"event": "sale", "kind": "percent", "payout": D("10"), "tier_period": "month",
           "tiers": [{"min_conversions": 3, "payout": "12"}, {"min_conversions": 5, "payout": "15"}]}]


def test_tiers_switch_exactly_at_their_boundaries(world):
    # Pending conversions count (with a 30-day hold nothing is approved within the month).
    _, link = program_with_link(world.a, rules=TIERED)
    _history(world.a, link, 2, datetime.now(UTC))
    second = convert(world.a, link, "t-2", "100")[1][0]  # 2 before it: below the first tier
    assert second.amount == D("10.00") and second.rule_snapshot["conversions_in_period"] == 2
    third = convert(world.a, link, "t-3", "100")[1][0]  # 3 before it: first tier
    assert third.amount == D("12.00") and third.rule_snapshot["conversions_in_period"] == 3
    assert third.rule_snapshot["tier_basis"] == "conversions" and third.status == "pending"
    assert convert(world.a, link, "t-4", "100")[1][0].amount == D("12.00")  # 4
    assert convert(world.a, link, "t-5", "100")[1][0].amount == D("15.00")  # 5


def test_tiers_count_conversions_of_the_current_period_not_rejected_or_refunded(world):
    _, link = program_with_link(world.a, rules=TIERED)
    now = datetime.now(UTC)
    last_month = add_months(now, -1)
    _history(world.a, link, 5, last_month, approve=True)  # another month: does not count
    made = [convert(world.a, link, f"p-{n}", "100")[1][0] for n in range(4)]
    commission_reject(network=world.a.network, commission=made[0])  # rejected: does not count
    commissions_reverse_for_refund(conversion=made[1].conversion, amount=D("100"))  # refunded: does not count
    commission_approve(network=world.a.network, commission=made[2])  # approved and pending ones count
    assert convert(world.a, link, "t-1", "100")[1][0].amount == D("10.00")  # 2 counted
    commissions_reverse_for_refund(conversion=made[3].conversion, amount=D("40"))  # partly refunded: counts
    third = convert(world.a, link, "t-2", "100")[1][0]  # 3 counted
    assert third.amount == D("12.00") and third.rule_snapshot["conversions_in_period"] == 3


def test_weekly_tier_period_uses_the_networks_time_zone(world):
    world.a.network.timezone = "Pacific/Auckland"  # UTC+13 in November
    world.a.network.save()
    rules = [TIERED[0] | {"tier_period": "week", "tiers": [{"min_conversions": 1, "payout": "20"}]}]
    _, link = program_with_link(world.a, rules=rules)
    # Monday 2026-11-23 00:30 in Auckland is Sunday 11:30 UTC: the same local week as Monday 10:00 local.
    monday_early = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)
    sunday_before = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)  # Sunday 23:30 local: the previous week
    _history(world.a, link, 1, sunday_before)
    assert convert(world.a, link, "w-1", "100", created_at=monday_early)[1][0].amount == D("10.00")
    later = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert convert(world.a, link, "w-2", "100", created_at=later)[1][0].amount == D("20.00")


def test_two_tier_pays_the_referrer_a_share_linked_to_the_first(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, _ = program_with_link(world.a, second_tier_percent=D("10"))
    link = make_link(make_partnership(program, referred))
    _, [first, second] = convert(world.a, link, "o-1", "99.99")
    assert (first.affiliate, first.amount) == (referred, D("10.00"))
    assert second.affiliate == world.a.affiliate and second.parent == first and second.tier == 2
    assert second.kind == "second_tier" and second.amount == D("1.00") and second.status == "pending"
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("1.00")
    assert owed(Account.Kind.ADVERTISER_RECEIVABLE, world.a.advertiser) == D("11.00")
    commission_approve(network=world.a.network, commission=first)
    second.refresh_from_db()
    assert second.status == "approved"
    assert owed(Account.Kind.AFFILIATE_APPROVED, world.a.affiliate) == D("1.00")
    assert_ledger_consistent()


def test_no_second_tier_without_a_referrer_or_a_percent(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, link = program_with_link(world.a, second_tier_percent=D("10"))
    assert len(convert(world.a, link, "o-1", "100")[1]) == 1  # world.a.affiliate was not referred
    plain, _ = program_with_link(world.a, name="No override")
    assert len(convert(world.a, make_link(make_partnership(plain, referred)), "o-2", "100")[1]) == 1


RECURRING = {"event": "sale", "kind": "percent", "payout": D("20")}


@pytest.mark.parametrize(("months", "renewal_after", "pays"), [
    (12, 11, True),  # within its months
    (12, 12, True),  # the renewal falling due at the end of its months (issue 16: recurring_months 1 pays one renewal)
    (12, 13, False),  # past its months
    (None, 60, True),  # null: forever
    (0, 1, False),  # 0: first payment only
])
def test_recurring_renewals_pay_within_their_months(world, months, renewal_after, pays):
    _, link = program_with_link(world.a, rules=[RECURRING | {"recurring_months": months}])
    start = datetime(2025, 1, 15, 12, tzinfo=UTC)
    first, [c1] = convert(world.a, link, "sub-1", "50.00", customer_id="cus_1", created_at=start)
    assert c1.amount == D("10.00")
    renewal_at = add_months(start, renewal_after)
    if (months, renewal_after) == (12, 11):
        renewal_at += timedelta(days=30)  # still before start + 12 months
    _, made = convert(world.a, link, "sub-2", "50.00", customer_id="cus_1", attribution="customer",
                      created_at=renewal_at)
    assert bool(made) is pays
    if pays:
        assert made[0].amount == D("10.00")


def test_computing_twice_writes_one_commission_and_one_posting(world):
    _, link = program_with_link(world.a)
    conversion, [commission] = convert(world.a, link, "o-1", "100")
    again = commissions_for_conversion(conversion_id=conversion.pk)
    assert [c.pk for c in again] == [commission.pk]
    assert Commission.objects.count() == 1
    assert LedgerEntry.objects.count() == 3 - 1  # receivable + pending (no margin line: revenue = payout)
    with pytest.raises(IntegrityError), transaction.atomic():
        Commission.objects.create(network=world.a.network, kind="sale", tier=1, program=commission.program,
                                  advertiser=world.a.advertiser, affiliate=world.a.affiliate, conversion=conversion,
                                  currency="EUR", amount=D("1"), revenue=D("1"))


def test_held_conversion_starts_on_hold_and_rejected_one_owes_nothing(world):
    _, link = program_with_link(world.a)
    _, [held] = convert(world.a, link, "o-1", "100", status="held", fraud_signals=["too_fast"])
    assert held.status == "on_hold" and "too_fast" in held.reason
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("10.00")
    _, [rejected] = convert(world.a, link, "o-2", "100", status="rejected", fraud_signals=["self_referral"])
    assert rejected.status == "rejected" and rejected.rejected_at is not None
    assert not LedgerEntry.objects.filter(transaction__ref_id=str(rejected.pk)).exists()
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("10.00")
