"""Corrections after refunds, at the sale's rates, and of trued-up commissions (`POST /api/v1/conversions/<id>/adjust`).

After partial refunds the corrected order replaces the cart: what was refunded stays refunded (never reversed twice),
the commission becomes what the corrected cart pays less what the refunds already reversed (never below zero), and
later refunds reverse what remains in proportion to what remains of the order. Changed lines are priced with the
rules in force when the commission was computed. A commission the tier true-up adjusted is priced at the trued-up
rate. A fully refunded order and a rejected commission are refused (400, nothing changed)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from commissions import services
from commissions.models import Account, Commission, Transaction
from commissions.trueup import tier_trueups_run
from programs.models import CommissionRule
from tests.factories import make_affiliate
from tracking.models import Conversion

from .helpers import assert_ledger_consistent, convert, owed, program_with_link
from .test_conversion_adjust import NEW_CART
from .test_product_rates import CART, RULES
from .test_tiers_trueup import AFTER_OCTOBER, OCTOBER, RULE

pytestmark = pytest.mark.django_db
D = Decimal
S = Commission.Status
PENDING = Account.Kind.AFFILIATE_PENDING
RECEIVABLE = Account.Kind.ADVERTISER_RECEIVABLE
PERCENT = [{"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("12")}]


def _adjust(tenant, conversion, body):
    return tenant.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/adjust", body, format="json")


def _refund(tenant, conversion, body):
    return tenant.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", body, format="json")


def _ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def _fresh(*commissions):
    for commission in commissions:
        commission.refresh_from_db()


# --- after partial refunds ----------------------------------------------------------------------------------------
def test_a_correction_after_a_partial_refund_keeps_the_refund_and_prices_the_rest(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    _, link = program_with_link(world.a, rules=PERCENT, affiliate=referred, second_tier_percent=D("50"))
    conversion, [first, override] = convert(world.a, link, "order-1", "100.00")
    _ok(_refund(world.a, conversion, {"amount": "50.00"}))
    _fresh(first, override)
    assert (first.reversed_amount, first.reversed_revenue, override.reversed_amount) == (D("5.00"), D("6.00"),
                                                                                         D("2.50"))
    body = _ok(_adjust(world.a, conversion, {"amount": "200.00"}))
    assert (body["amount"], body["refunded_amount"]) == ("200.00", "50.00")  # the refund stays a refund
    _fresh(first, override)
    # 10 % of the corrected 200.00 is 20.00, of which the refund already reversed 5.00: 15.00 is still owed.
    assert (first.amount, first.reversed_amount, first.remaining_amount) == (D("20.00"), D("5.00"), D("15.00"))
    assert (first.revenue, first.remaining_revenue) == (D("24.00"), D("18.00"))
    assert (override.amount, override.remaining_amount) == (D("10.00"), D("7.50"))
    assert owed(PENDING, referred) == D("15.00") and owed(PENDING, world.a.affiliate) == D("7.50")
    assert owed(RECEIVABLE, world.a.advertiser) == D("25.50")  # 18.00 + the override's 7.50
    [posting] = Transaction.objects.filter(kind="commission.adjusted", ref_id=str(first.pk))
    assert sorted(e.amount for e in posting.entries.all()) == [D("-10.00"), D("-2.00"), D("12.00")]
    assert_ledger_consistent()
    # A later refund reverses what remains in proportion to what remains of the order (50 of 150: a third), and
    # never the first refund again.
    _ok(_refund(world.a, conversion, {"amount": "50.00"}))
    _fresh(first, override)
    assert (first.reversed_amount, first.reversed_revenue, override.reversed_amount) == (D("10.00"), D("12.00"),
                                                                                         D("5.00"))
    assert owed(PENDING, referred) == D("10.00")
    _ok(_refund(world.a, conversion, {}))  # the rest
    _fresh(first, override)
    assert (first.status, first.reversed_amount, override.status) == (S.REVERSED, D("20.00"), S.REVERSED)
    assert owed(PENDING, referred) == 0 and owed(PENDING, world.a.affiliate) == 0
    assert owed(RECEIVABLE, world.a.advertiser) == 0
    assert_ledger_consistent()


def test_items_refunded_by_name_stay_refunded_after_a_correction(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    _ok(_refund(world.a, conversion, {"items": [{"sku": "TENT-2P", "amount": "129.90"}]}))
    _fresh(commission)
    assert commission.reversed_amount == D("25.98")
    _ok(_adjust(world.a, conversion, {"items": NEW_CART}))  # the tent stays in the cart, and refunded
    _fresh(commission)
    # The cart pays 25.98 + 5.00 + 19.90 = 50.88; the tent's 25.98 was reversed already: 24.90 is owed.
    assert (commission.amount, commission.reversed_amount) == (D("50.88"), D("25.98"))
    assert owed(PENDING, world.a.affiliate) == D("24.90")
    assert D(commission.rule_snapshot["items"][0]["refunded"]) == D("129.90")
    assert_ledger_consistent()
    # The tent cannot be refunded twice; the new tent is refunded by its own line.
    twice = _refund(world.a, conversion, {"items": [{"sku": "TENT-2P", "amount": "129.90"}]})
    assert twice.status_code == 400 and "items" in twice.json()
    _ok(_refund(world.a, conversion, {"items": [{"sku": "TENT-3P", "amount": "199.00"}]}))
    _fresh(commission)
    assert commission.reversed_amount == D("45.88") and owed(PENDING, world.a.affiliate) == D("5.00")
    _ok(_refund(world.a, conversion, {}))
    _fresh(commission)
    assert commission.status == S.REVERSED and owed(PENDING, world.a.affiliate) == 0
    assert owed(RECEIVABLE, world.a.advertiser) == 0
    assert_ledger_consistent()


def test_a_corrected_cart_paying_less_than_was_reversed_owes_nothing_never_less(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    _ok(_refund(world.a, conversion, {"amount": "120.00"}))  # in proportion: 36.98 x 120 / 219.89 = 20.18
    _fresh(commission)
    assert commission.reversed_amount == D("20.18")
    cheap = [{"sku": "SOCK", "category": "socks", "amount": "9.99", "quantity": 3},
             {"sku": "GIFT", "category": "gifts", "amount": "150.00", "quantity": 1}]  # 1.00 + 15.00 = 16.00
    _ok(_adjust(world.a, conversion, {"items": cheap}))
    _fresh(commission)
    assert (commission.amount, commission.reversed_amount, commission.remaining_amount) == (D("20.18"), D("20.18"),
                                                                                            D("0.00"))
    assert commission.status == S.PENDING and owed(PENDING, world.a.affiliate) == 0
    [posting] = Transaction.objects.filter(kind="commission.adjusted", ref_id=str(commission.pk))
    assert sum(e.amount for e in posting.entries.all()) == 0
    _ok(_refund(world.a, conversion, {}))  # the rest reverses nothing more: all of it was reversed
    _fresh(commission)
    assert commission.status == S.REVERSED and commission.reversed_amount == D("20.18")
    assert owed(PENDING, world.a.affiliate) == 0 and owed(RECEIVABLE, world.a.advertiser) == 0
    assert_ledger_consistent()


def test_a_fixed_commission_after_a_refund_and_a_correction_reverses_the_rest_in_proportion(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "fixed", "payout": D("7")}])
    conversion, [commission] = convert(world.a, link, "order-1", "100.00")
    _ok(_refund(world.a, conversion, {"amount": "50.00"}))
    _ok(_adjust(world.a, conversion, {"amount": "200.00"}))
    _fresh(commission)
    assert (commission.amount, commission.reversed_amount) == (D("7.00"), D("3.50"))  # fixed: unchanged
    _ok(_refund(world.a, conversion, {"amount": "75.00"}))  # half of what remains (150.00): half of 3.50
    _fresh(commission)
    assert commission.reversed_amount == D("5.25") and owed(PENDING, world.a.affiliate) == D("1.75")
    assert_ledger_consistent()


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "50.00"}, "amount"),  # not more than what was refunded
    ({"amount": "40.00"}, "amount"),
])
def test_a_correction_below_what_was_refunded_is_400(world, body, field):
    _, link = program_with_link(world.a, rules=PERCENT)
    conversion, [commission] = convert(world.a, link, "order-1", "100.00")
    _ok(_refund(world.a, conversion, {"amount": "50.00"}))
    postings = Transaction.objects.count()
    response = _adjust(world.a, conversion, body)
    assert response.status_code == 400 and "already refunded" in response.json()[field][0]
    assert Conversion.objects.get(pk=conversion.pk).amount == D("100.00") and Transaction.objects.count() == postings


def test_a_fully_refunded_order_and_a_rejected_commission_are_refused(world):
    _, link = program_with_link(world.a, rules=PERCENT)
    refunded, _ = convert(world.a, link, "order-1", "100.00")
    _ok(_refund(world.a, refunded, {}))
    response = _adjust(world.a, refunded, {"amount": "120.00"})
    assert response.status_code == 400 and "fully refunded" in response.json()["detail"][0]
    rejected, [commission] = convert(world.a, link, "order-2", "100.00")
    services.commission_reject(network=world.a.network, commission=commission, reason="test order")
    postings = Transaction.objects.count()
    response = _adjust(world.a, rejected, {"amount": "120.00"})
    assert response.status_code == 400 and "rejected" in response.json()["detail"][0]
    assert Conversion.objects.get(pk=rejected.pk).amount == D("100.00") and Transaction.objects.count() == postings
    commission.refresh_from_db()
    assert (commission.status, commission.amount) == (S.REJECTED, D("10.00"))


# --- at the sale's rates ------------------------------------------------------------------------------------------
def test_changed_lines_are_priced_with_the_rules_in_force_at_the_sale(world):
    program, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    # After the sale the program pays 50 % on whole orders and 40 % on tents, and 2.00 a pair of shoes.
    for rule in ({"kind": "percent", "payout": D("50")},
                 {"kind": "percent", "payout": D("40"), "match": {"category": ["tents"]}},
                 {"kind": "fixed", "payout": D("2"), "match": {"category": ["shoes"]}}):
        CommissionRule.objects.create(network=world.a.network, program=program, event="sale", **rule)
    _ok(_adjust(world.a, conversion, {"items": NEW_CART}))
    commission.refresh_from_db()
    # The new tent and the changed boots are priced as at the sale: 10 % of 199.00 and 5.00 a pair.
    lines = commission.rule_snapshot["items"]
    assert [(line["sku"], line["rate"], line["commission"]) for line in lines] == [
        ("TENT-2P", "20", "25.98"), ("BOOT-42", "5", "5"), ("TENT-3P", "10", "19.9")]
    assert commission.amount == D("50.88")
    # A new sale is priced with today's rules.
    _, [today] = convert(world.a, link, "cart-2", "199.00", items=[NEW_CART[2]])
    assert today.amount == D("79.60")
    assert_ledger_consistent()


# --- after the tier true-up: priced at the trued-up rate ----------------------------------------------------------
def _october(tenant, link, n):
    return [convert(tenant, link, f"oct-{i}", "100", created_at=OCTOBER + timedelta(hours=i))[1][0]
            for i in range(n)]


def test_a_commission_the_trueup_raised_is_priced_at_the_trued_up_rate(world):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)  # 8 % x 3, then 10 %; the true-up adds 2.00 to each of the first three
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1
    assert owed(PENDING, world.a.affiliate) == D("40.00")
    first = made[0]
    adjustment = Commission.objects.get(adjusts=first)
    _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))
    _fresh(first, adjustment)
    # The pair pays the trued-up 10 % of 200.00: the commission its 8 % (16.00), the adjustment the rest (4.00).
    assert (first.amount, adjustment.amount, adjustment.base_amount) == (D("16.00"), D("4.00"), D("200.00"))
    assert owed(PENDING, world.a.affiliate) == D("50.00")
    assert_ledger_consistent()
    # A refund of half the order reverses half of the pair.
    _ok(_refund(world.a, first.conversion, {"amount": "100.00"}))
    _fresh(first, adjustment)
    assert first.reversed_amount + adjustment.reversed_amount == D("10.00")
    assert owed(PENDING, world.a.affiliate) == D("40.00")
    assert_ledger_consistent()


def test_a_commission_the_trueup_lowered_is_priced_at_the_trued_up_rate(world):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)  # the fourth at 10 %; then two are rejected: the period reaches 8 %
    for commission in made[:2]:
        services.commission_reject(network=world.a.network, commission=commission, reason="fraud")
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1
    last = made[3]
    last.refresh_from_db()
    assert last.rule_snapshot["trued_down"]["amount"] == "2.00" and last.remaining_amount == D("8.00")
    _ok(_adjust(world.a, last.conversion, {"amount": "200.00"}))
    last.refresh_from_db()
    # Its own 10 % of 200.00, less the true-up's reduction to 8 %: 16.00.
    assert (last.amount, last.reversed_amount, last.remaining_amount) == (D("20.00"), D("4.00"), D("16.00"))
    assert last.rule_snapshot["trued_down"]["amount"] == "4.00"
    assert owed(PENDING, world.a.affiliate) == D("24.00")  # the third (8.00) and this one
    assert_ledger_consistent()
    _ok(_refund(world.a, last.conversion, {}))
    last.refresh_from_db()
    assert last.status == S.REVERSED and owed(PENDING, world.a.affiliate) == D("8.00")
    assert_ledger_consistent()
