"""Hypothesis drives refunds (in proportion and by item), corrections of the cart and approvals on one order with a
second-tier override: after every step the ledger balances, no commission reverses more than it pays, the accounts
hold what the commissions still pay, a correction leaves each commission owing what the corrected cart pays less what
was reversed (never below zero), and refunding the rest reverses everything."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from commissions import services
from commissions.models import Account, Commission
from core.money import quantize
from tests.factories import make_affiliate
from tracking.adjustments import conversion_adjust
from tracking.models import Conversion
from tracking.services import conversion_refund

from .helpers import assert_ledger_consistent, convert, owed, program_with_link
from .test_conversion_adjust import NEW_CART
from .test_product_rates import CART, RULES

pytestmark = pytest.mark.django_db
D = Decimal
S = Commission.Status
CARTS = [CART, NEW_CART, [{"sku": "SOCK", "category": "socks", "amount": "9.99", "quantity": 3},
                          {"sku": "GIFT", "category": "gifts", "amount": "150.00", "quantity": 1}],
         [{"sku": "TENT-2P", "category": "tents", "amount": "259.80", "quantity": 2}]]
step = st.one_of(
    st.tuples(st.just("refund"), st.sampled_from([D("0.1"), D("0.5"), D("0.9")])),
    st.tuples(st.just("refund_item"), st.integers(0, 3)),
    st.tuples(st.just("correct"), st.integers(0, len(CARTS) - 1)),
    st.tuples(st.just("approve"), st.just(0)),
)


def _accounts_hold_what_commissions_owe(tenant, referred):
    commissions = list(Commission.objects.filter(network=tenant.network))
    for c in commissions:
        assert 0 <= c.reversed_amount <= c.amount and 0 <= c.reversed_revenue <= c.revenue
    owes = {aff.pk: sum((c.remaining_amount for c in commissions if c.affiliate_id == aff.pk), D(0))
            for aff in (tenant.affiliate, referred)}
    for aff in (tenant.affiliate, referred):
        assert owed(Account.Kind.AFFILIATE_PENDING, aff) + owed(Account.Kind.AFFILIATE_APPROVED, aff) == owes[aff.pk]
    assert owed(Account.Kind.ADVERTISER_RECEIVABLE, tenant.advertiser) == sum(
        (c.remaining_revenue for c in commissions), D(0))


def _run(world, steps):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    _, link = program_with_link(world.a, rules=RULES, affiliate=referred, second_tier_percent=D("50"))
    conversion, _ = convert(world.a, link, "cart-p", "219.89", items=CART)
    network = world.a.network
    for kind, arg in steps:
        conversion = Conversion.objects.get(pk=conversion.pk)
        left = conversion.amount - conversion.refunded_amount
        try:
            if kind == "refund":
                amount = quantize(left * arg, "EUR")
                if amount > 0:
                    conversion_refund(network=network, conversion=conversion, amount=amount)
            elif kind == "refund_item":
                items = conversion.items or []
                item = items[arg % len(items)]
                conversion_refund(network=network, conversion=conversion,
                                  items=[{"sku": item["sku"], "amount": D(item["amount"]) / 2}])
            elif kind == "correct":
                first = Commission.objects.get(conversion=conversion, tier=1)
                reversed_before = first.reversed_amount
                conversion_adjust(network=network, conversion=conversion, items=CARTS[arg])
                first.refresh_from_db()
                price = sum((D(line["commission"]) for line in first.rule_snapshot["items"]), D(0))
                assert first.remaining_amount == max(price - reversed_before, D(0))
            else:
                for commission in Commission.objects.filter(conversion=conversion, tier=1, status=S.PENDING):
                    services.commission_approve(network=network, commission=commission)
        except ValidationError:
            pass  # a refusal (nothing left, a correction not above what was refunded, ...) changes nothing
        assert_ledger_consistent()
        _accounts_hold_what_commissions_owe(world.a, referred)
    conversion = Conversion.objects.get(pk=conversion.pk)
    if conversion.amount > conversion.refunded_amount:
        conversion_refund(network=network, conversion=conversion)
    for commission in Commission.objects.filter(conversion=conversion):
        assert commission.status == S.REVERSED and commission.remaining_amount == 0
    assert_ledger_consistent()
    _accounts_hold_what_commissions_owe(world.a, referred)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=7))
def test_refunds_and_corrections_in_any_order_keep_the_ledger_and_reverse_nothing_twice(world, steps):
    savepoint = transaction.savepoint()
    try:
        _run(world, steps)
    finally:
        transaction.savepoint_rollback(savepoint)
