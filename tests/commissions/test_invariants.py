"""Hypothesis drives random conversions, approvals, rejections, holds, refunds and payouts; after every step the
ledger balances, cached balances equal their entries, accounts match the commissions' states, and no commission
pays more than its rule allows or reverses more than it paid."""

import contextlib
import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from commissions import ledger, services
from commissions.models import Account, Commission
from core.money import quantize
from tests.factories import make_affiliate, make_conversion, make_link, make_partnership
from tracking.models import Conversion

from .helpers import assert_ledger_consistent, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind
S = Commission.Status
MAX_RATE = {"EUR": D("15"), "KWD": D("10")}  # the highest tier of each program's percent rule
SECOND_TIER = D("10")


def build_world(tenant):
    referred, _ = make_affiliate(tenant.network, "Referred", "referred@alpha.test", referred_by=tenant.affiliate)
    eur, eur_link = program_with_link(tenant, second_tier_percent=SECOND_TIER, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("12"),
         "tiers": [{"min_conversions": 2, "payout": "15"}]}])
    kwd, kwd_link = program_with_link(tenant, name="Kuwait", currency="KWD", rules=[
        {"event": "sale", "kind": "percent", "payout": D("10")}])
    links = [eur_link, make_link(make_partnership(eur, referred)), kwd_link,
             make_link(make_partnership(kwd, referred))]
    return [tenant.affiliate, referred], links


def check_commissions_against_accounts(network):
    owed = defaultdict(Decimal)  # (kind, affiliate, currency) -> from commissions
    receivable = defaultdict(Decimal)
    for c in Commission.objects.filter(network=network).select_related("conversion", "parent").only(
            "tier", "status", "currency", "amount", "revenue", "reversed_amount", "reversed_revenue", "affiliate_id",
            "advertiser_id", "conversion__amount", "conversion__refunded_amount", "parent__amount", "parent__status"):
        assert 0 <= c.reversed_amount <= c.amount and 0 <= c.reversed_revenue <= c.revenue
        conversion = c.conversion
        if c.tier == 1:
            ceiling = quantize(conversion.amount * MAX_RATE[c.currency] / 100, c.currency)
        else:
            ceiling = quantize(c.parent.amount * SECOND_TIER / 100, c.currency)
            assert c.status == c.parent.status or c.parent.status in (S.REVERSED, S.PAID, S.APPROVED)
        assert c.amount <= ceiling
        if conversion.refunded_amount >= conversion.amount:
            assert c.status in (S.REVERSED, S.REJECTED) and (c.status == S.REJECTED or c.remaining_amount == 0)
        if c.status in (S.PENDING, S.ON_HOLD):
            owed["pending", c.affiliate_id, c.currency] += c.remaining_amount
        elif c.status in (S.APPROVED, S.PAID):
            owed["approved+", c.affiliate_id, c.currency] += c.remaining_amount
        if c.status != S.REJECTED:
            receivable[c.advertiser_id, c.currency] += c.remaining_revenue
    booked = defaultdict(Decimal)
    for account in Account.objects.filter(network=network):
        if account.kind == K.AFFILIATE_PENDING:
            booked["pending", account.affiliate_id, account.currency] -= account.balance
        elif account.kind in (K.AFFILIATE_APPROVED, K.PAYOUTS_CLEARING, K.AFFILIATE_PAID):
            booked["approved+", account.affiliate_id, account.currency] -= account.balance
        elif account.kind == K.ADVERTISER_RECEIVABLE:
            assert account.balance == receivable[account.advertiser_id, account.currency]
    assert {k: v for k, v in booked.items() if v} == {k: v for k, v in owed.items() if v}


class LedgerMachine(RuleBasedStateMachine):
    tenant = None
    affiliates: list = []
    links: list = []
    conversions = Bundle("conversions")

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.network = self.tenant.network
        self.orders = itertools.count()

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    def _commission(self, conversion_id):
        return Commission.objects.filter(conversion_id=conversion_id, tier=1).first()

    @rule(target=conversions, link=st.integers(0, 3), cents=st.integers(1, 300_000),
          fraud=st.sampled_from(["accepted", "accepted", "held", "rejected"]))
    def convert(self, link, cents, fraud):
        link = self.links[link]
        currency = link.program.currency
        amount = quantize(D(cents) / 100, currency)
        conversion = make_conversion(self.tenant.advertiser, order_id=f"o-{next(self.orders)}", amount=amount,
                                     currency=currency, link=link, status=fraud)
        services.commissions_for_conversion(conversion_id=conversion.pk)
        return conversion.pk

    @rule(conversion_id=conversions, operator=st.booleans())
    def approve(self, conversion_id, operator):
        commission = self._commission(conversion_id)
        if commission is None:  # the order earned less than a minor unit
            return
        with contextlib.suppress(services.TransitionError, services.TransitionForbidden):
            services.commission_approve(network=self.network, commission=commission, operator=operator)

    @rule(conversion_id=conversions, operator=st.booleans())
    def reject(self, conversion_id, operator):
        commission = self._commission(conversion_id)
        if commission is None:
            return
        with contextlib.suppress(services.TransitionError, services.TransitionForbidden):
            services.commission_reject(network=self.network, commission=commission, operator=operator)

    @rule(conversion_id=conversions)
    def hold(self, conversion_id):
        commission = self._commission(conversion_id)
        if commission is None:
            return
        with contextlib.suppress(services.TransitionError):
            services.commission_hold(network=self.network, commission=commission)

    @rule(conversion_id=conversions, share=st.sampled_from([D("0.1"), D("0.333"), D("0.5"), D("1")]))
    def refund(self, conversion_id, share):
        with transaction.atomic():
            conversion = Conversion.objects.for_network(self.network).select_for_update().get(pk=conversion_id)
            remaining = conversion.amount - conversion.refunded_amount
            amount = quantize(remaining * share, conversion.currency)
            if amount <= 0:
                return
            conversion.refunded_amount += amount
            conversion.save(update_fields=["refunded_amount"])
            services.commissions_reverse_for_refund(conversion=conversion, amount=amount)

    @rule(who=st.integers(0, 1), fail=st.booleans())
    def payout(self, who, fail):
        affiliate = self.affiliates[who]
        approved = Commission.objects.filter(network=self.network, affiliate=affiliate, status=S.APPROVED)
        paid = services.commissions_mark_paid(network=self.network,
                                              commission_ids=list(approved.values_list("pk", flat=True)))
        for account in Account.objects.filter(network=self.network, affiliate=affiliate, kind=K.AFFILIATE_APPROVED):
            due = -account.balance
            if due <= 0:
                continue  # a negative balance (refunds after payout) waits for new earnings
            args = {"network": self.network, "affiliate": affiliate, "currency": account.currency, "amount": due}
            ledger.ledger_payout_batched(**args)
            (ledger.ledger_payout_failed if fail else ledger.ledger_payout_settled)(**args)
            if fail:
                for commission in paid:
                    if commission.currency == account.currency:
                        services.commission_mark_unpaid(network=self.network, commission=commission)

    @invariant()
    def ledger_is_consistent(self):
        assert_ledger_consistent()
        check_commissions_against_accounts(self.network)


def test_random_sequences_keep_the_ledger_and_the_commissions_consistent(world):
    LedgerMachine.tenant = world.a
    LedgerMachine.affiliates, LedgerMachine.links = build_world(world.a)  # each example rolls back to here
    run_state_machine_as_test(LedgerMachine, settings=settings(max_examples=30, stateful_step_count=10,
                                                               deadline=None))
