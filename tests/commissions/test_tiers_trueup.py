"""The tier true-up at period end: adjustments for commissions paid below the tier reached, reductions for those
paid above it, the network's time zone, idempotency, refunds and rejections afterwards, and a hypothesis property:
after the true-up every affiliate's period total is (tier rate reached) x (base), to the cent."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from commissions import services
from commissions.models import Account, Commission, LedgerEntry, TierTrueUp
from commissions.tasks import tier_trueups_task
from commissions.trueup import tier_trueups_run
from core.money import quantize
from network.models import AuditLog
from programs.models import tier_rate
from tests.factories import make_affiliate, make_conversion, make_link, make_partnership
from tracking.models import Conversion

from .helpers import assert_ledger_consistent, convert, owed, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
S = Commission.Status
K = Account.Kind
OCTOBER = datetime(2026, 10, 5, 12, tzinfo=UTC)
AFTER_OCTOBER = datetime(2026, 11, 1, 6, tzinfo=UTC)
RULE = {"event": "sale", "kind": "percent", "payout": D("8"), "tier_period": "month",
        "tiers": [{"min_conversions": 3, "payout": "10"}]}
_orders = itertools.count()


def _october(tenant, link, n, amount="100", start=OCTOBER):
    """n conversions in October (an hour apart) and their first-tier commissions."""
    made = []
    for i in range(n):
        at = start + timedelta(hours=i)
        _, [commission, *_] = convert(tenant, link, f"oct-{next(_orders)}", amount, created_at=at)
        made.append(commission)
    return made


def _refund(network_id, conversion_id, amount):
    with transaction.atomic():
        conversion = Conversion.objects.for_network(network_id).select_for_update().get(pk=conversion_id)
        conversion.refunded_amount += D(amount)
        conversion.save(update_fields=["refunded_amount"])
        services.commissions_reverse_for_refund(conversion=conversion, amount=D(amount))


def _adjustments():
    return list(Commission.objects.filter(kind="adjustment").order_by("pk"))


def test_trueup_pays_the_periods_earlier_commissions_the_rate_reached(world, django_capture_on_commit_callbacks):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)
    assert [c.amount for c in made] == [D("8.00")] * 3 + [D("10.00")]  # 0, 1, 2 before them; then 3
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), \
            mock.patch("commissions.notifications.events_emit") as emit:
        assert tier_trueups_run(now=AFTER_OCTOBER) == 1
    adjustments = _adjustments()
    assert [(a.adjusts_id, a.amount, a.revenue) for a in adjustments] == [(c.pk, D("2.00"), D("2.00"))
                                                                          for c in made[:3]]
    first = adjustments[0]
    assert (first.kind, first.tier, first.status, first.conversion_id) == ("adjustment", 1, "pending",
                                                                           made[0].conversion_id)
    assert first.affiliate == world.a.affiliate and first.hold_until == made[0].hold_until
    assert first.rule_snapshot["trueup"]["rate"] == "10" and first.rule_snapshot["trueup"]["rate_before"] == "8"
    assert first.rule_snapshot["trueup"]["conversions_in_period"] == 4
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("40.00")  # 4 x 10 % of 100
    assert owed(K.ADVERTISER_RECEIVABLE, world.a.advertiser) == D("40.00")
    assert_ledger_consistent()
    marker = TierTrueUp.objects.get()
    assert (marker.conversions, marker.adjusted, marker.network) == (4, 3, world.a.network)
    log = AuditLog.objects.get(action="commissions.trued_up", target_id=str(marker.pk))
    assert log.network == world.a.network and log.data["adjustments"] == [a.pk for a in adjustments]
    # The three bonuses of the true-up reach the affiliate as one digest (one e-mail each before).
    [digest] = mail.outbox
    assert digest.subject == "3 new commissions: €6.00" and digest.to == [world.a.affiliate.email]
    for adjustment, original in zip(adjustments, made[:3], strict=True):
        assert (f"#{adjustment.pk} Outdoor Gear, order {original.conversion.order_id}, tier bonus for #{original.pk}: "
                f"€2.00 ({adjustment.reason})\n") in digest.body
    events = [e for call in emit.call_args_list for e in call.kwargs["events"] if e.event != "commission.adjusted"]
    assert [(e.event, e.data["kind"], e.data["adjusts"]) for e in events] == [
        ("commission.created", "adjustment", c.pk) for c in made[:3]]
    assert events[0].macros["payout"] == "2.00" and events[0].macros["order_id"] == made[0].conversion.order_id


def test_running_the_trueup_twice_changes_nothing(world):
    _, link = program_with_link(world.a, rules=[RULE])
    _october(world.a, link, 4)
    tier_trueups_run(now=AFTER_OCTOBER)
    entries, commissions = LedgerEntry.objects.count(), Commission.objects.count()
    assert tier_trueups_run(now=AFTER_OCTOBER) == 0
    assert tier_trueups_task.delay().get() == 0
    assert tier_trueups_run(now=AFTER_OCTOBER + timedelta(days=10)) == 0
    assert (LedgerEntry.objects.count(), Commission.objects.count(), TierTrueUp.objects.count()) == (
        entries, commissions, 1)


def test_trueup_waits_for_the_period_to_close_in_the_networks_time_zone(world):
    world.a.network.timezone = "Pacific/Auckland"  # UTC+13 in November
    world.a.network.save()
    _, link = program_with_link(world.a, rules=[RULE])
    _october(world.a, link, 4)
    assert tier_trueups_run(now=datetime(2026, 10, 31, 10, 30, tzinfo=UTC)) == 0  # Oct 31 23:30 local: open
    assert tier_trueups_run(now=datetime(2026, 10, 31, 11, 30, tzinfo=UTC)) == 0  # closed 30 min ago: grace
    assert tier_trueups_run(now=datetime(2026, 10, 31, 12, 30, tzinfo=UTC)) == 1  # 01:30 local on Nov 1
    marker = TierTrueUp.objects.get()
    assert marker.period_start == datetime(2026, 9, 30, 11, tzinfo=UTC)  # Oct 1 00:00 NZDT
    assert marker.period_end == datetime(2026, 10, 31, 11, tzinfo=UTC)
    assert len(_adjustments()) == 3


def test_a_commission_paid_above_the_tier_reached_is_reduced(world, django_capture_on_commit_callbacks):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)
    for commission in made[:2]:  # rejected later in the month: the 4th was paid 10 % for 3 that no longer count
        services.commission_reject(network=world.a.network, commission=commission)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tier_trueups_run(now=AFTER_OCTOBER)
    assert _adjustments() == []
    fourth = Commission.objects.get(pk=made[3].pk)
    assert (fourth.amount, fourth.reversed_amount, fourth.remaining_amount) == (D("10.00"), D("2.00"), D("8.00"))
    assert fourth.status == "pending" and fourth.rule_snapshot["trued_down"] == {"amount": "2.00",
                                                                                   "revenue": "2.00"}
    assert "Tier true-up 2026-10: rate 10 -> 8" in fourth.reason
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("16.00")  # two counted at 8 %
    assert_ledger_consistent()
    assert any(m.subject.startswith("Commission partly reversed: €8.00") for m in mail.outbox)
    # A later half refund reverses half of what is left, not of the original amount.
    _refund(fourth.network_id, fourth.conversion_id, "50")
    fourth.refresh_from_db()
    assert (fourth.reversed_amount, fourth.remaining_amount) == (D("6.00"), D("4.00"))
    assert_ledger_consistent()


def test_refunds_and_rejections_after_the_trueup_reverse_the_adjustment_with_its_commission(world):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4, amount="99.99")
    # Before the true-up: the adjustment starts reversed in proportion.
    _refund(made[1].network_id, made[1].conversion_id, "33.33")
    tier_trueups_run(now=AFTER_OCTOBER)
    by_original = {a.adjusts_id: a for a in _adjustments()}
    second = by_original[made[1].pk]
    # 10 % of 99.99 = 10.00 for the pair; a third refunded: 3.33 reversed in all (8 % part: 2.67, adjustment 0.66).
    assert (second.amount, second.reversed_amount, second.refunded_base) == (D("2.00"), D("0.66"), D("33.33"))
    _refund(made[0].network_id, made[0].conversion_id, "49.995")  # half of the order, after the true-up
    first = Commission.objects.get(pk=made[0].pk)
    adjustment = by_original[made[0].pk]
    adjustment.refresh_from_db()
    assert first.reversed_amount + adjustment.reversed_amount == quantize(D("10.00") / 2, "EUR")
    _refund(made[0].network_id, made[0].conversion_id, "49.995")  # the rest: both reversed
    adjustment.refresh_from_db()
    assert adjustment.status == "reversed" and adjustment.remaining_amount == 0
    services.commission_reject(network=world.a.network, commission=made[2])  # rejects its adjustment too
    assert Commission.objects.get(pk=by_original[made[2].pk].pk).status == "rejected"
    services.commission_approve(network=world.a.network, commission=made[1])  # and approves it
    assert Commission.objects.get(pk=second.pk).status == "approved"
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("10.00")  # the 4th, paid 10 % from the start
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("10.00") - D("3.33")  # the 2nd with its adjustment
    assert_ledger_consistent()


def test_a_fixed_revenue_keeps_the_advertisers_price_and_the_margin_pays_the_bonus(world):
    _, link = program_with_link(world.a, rules=[RULE | {"revenue": D("12")}])
    _october(world.a, link, 3)
    tier_trueups_run(now=AFTER_OCTOBER)
    assert [(a.amount, a.revenue) for a in _adjustments()] == [(D("2.00"), D("0"))] * 3
    assert owed(K.ADVERTISER_RECEIVABLE, world.a.advertiser) == D("36.00")
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("30.00")
    assert_ledger_consistent()


def test_amount_basis_trues_up_on_the_periods_net_sales(world):
    rule = RULE | {"tier_basis": "amount", "tiers": [{"min_amount": "250", "payout": "10"}]}
    _, link = program_with_link(world.a, rules=[rule])
    made = _october(world.a, link, 3)  # 0, 100, 200 before them: all at 8 %
    assert [c.rule_snapshot["amount_in_period"] for c in made] == ["0", "100", "200"]
    assert made[0].rule_snapshot["tier_basis"] == "amount"
    tier_trueups_run(now=AFTER_OCTOBER)
    assert len(_adjustments()) == 3  # 300 reached
    assert TierTrueUp.objects.get().amount == D("300")


def test_amount_basis_counts_sales_net_of_refunds(world):
    rule = RULE | {"tier_basis": "amount", "tiers": [{"min_amount": "250", "payout": "10"}]}
    _, link = program_with_link(world.a, rules=[rule])
    made = _october(world.a, link, 3)
    _refund(made[0].network_id, made[0].conversion_id, "60")  # 240 net: below the tier
    tier_trueups_run(now=AFTER_OCTOBER)
    assert _adjustments() == []


def test_trueup_leaves_other_periods_affiliates_and_untiered_rules_alone(world):
    _, link = program_with_link(world.a, rules=[RULE])
    _october(world.a, link, 2)
    _october(world.a, link, 3, start=datetime(2026, 11, 2, tzinfo=UTC))  # November: still open
    other = make_link(make_partnership(link.program, world.a.affiliate2))
    _october(world.a, other, 1)
    _, flat_link = program_with_link(world.a, name="Flat", rules=[{"event": "sale", "kind": "percent",
                                                                   "payout": D("8")}])
    _october(world.a, flat_link, 5)
    assert tier_trueups_run(now=datetime(2026, 11, 5, tzinfo=UTC)) == 2  # two affiliates of the tiered program
    assert _adjustments() == []  # nobody reached 3 in October


def test_beat_schedules_the_trueup_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["commissions-tier-trueups"]
    assert entry["task"] == "commissions.tasks.tier_trueups_task"
    assert entry["schedule"].minute == {23} and len(entry["schedule"].hour) == 24


# --- the property -------------------------------------------------------------------------------------
PROPERTY_TIERS = {
    "conversions": [{"min_conversions": 2, "payout": "12"}, {"min_conversions": 4, "payout": "15"}],
    "amount": [{"min_amount": "300", "payout": "12"}, {"min_amount": "700", "payout": "15"}],
}
step = st.one_of(
    st.tuples(st.just("convert"), st.integers(0, 1), st.integers(100, 40_000)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([D("0.1"), D("0.333"), D("0.5"), D("1")])),
    st.tuples(st.just("reject"), st.integers(0, 30), st.just(None)),
)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(basis=st.sampled_from(["conversions", "amount"]), before=st.lists(step, min_size=1, max_size=12),
       after=st.lists(step.filter(lambda s: s[0] != "convert"), max_size=4))
# Refunds and a rejection after the true-up that take the period below its tier (450.00: 225.00, 285.00).
@example(basis="amount", before=[("convert", 0, 15000)] * 3, after=[("refund", 0, D("1")), ("refund", 1, D("0.5"))])
@example(basis="amount", before=[("convert", 0, 15000)] * 3, after=[("reject", 2, None), ("refund", 0, D("0.1"))])
def test_after_the_trueup_each_affiliates_period_total_is_the_tier_rate_times_the_base(world, basis, before, after):
    savepoint = transaction.savepoint()
    try:
        _check_property(world, basis, before, after)
    finally:
        transaction.savepoint_rollback(savepoint)


def _apply(world, steps, links, conversions, moment):
    for kind, arg, extra in steps:
        if kind == "convert":
            moment += timedelta(hours=1)
            conversion, _ = convert(world.a, links[arg], f"p-{next(_orders)}", str(D(extra) / 100), created_at=moment)
            conversions.append(conversion.pk)
        elif conversions and kind == "refund":
            conversion = Conversion.objects.get(pk=conversions[arg % len(conversions)])
            amount = quantize((conversion.amount - conversion.refunded_amount) * extra, "EUR")
            if amount > 0:
                _refund(conversion.network_id, conversion.pk, amount)
        elif conversions and kind == "reject":
            original = Commission.objects.get(conversion_id=conversions[arg % len(conversions)], tier=1,
                                              kind="sale")
            if original.status in (S.PENDING, S.ON_HOLD):
                services.commission_reject(network=world.a.network, commission=original, operator=True)
    return moment


def _check_property(world, basis, before, after):
    rule = {"event": "sale", "kind": "percent", "payout": D("10"), "tier_period": "month", "tier_basis": basis,
            "tiers": PROPERTY_TIERS[basis]}
    program, link = program_with_link(world.a, rules=[rule])
    links = [link, make_link(make_partnership(program, world.a.affiliate2))]
    conversions: list[int] = []
    _apply(world, before, links, conversions, OCTOBER)
    counted = {c.pk: c for c in Commission.objects.filter(program=program, kind="sale", status__in=services.LIABLE)}
    tier_trueups_run(now=AFTER_OCTOBER)
    _apply(world, after, links, conversions, OCTOBER)
    entries = LedgerEntry.objects.count()
    assert tier_trueups_run(now=AFTER_OCTOBER) == 0 and LedgerEntry.objects.count() == entries  # idempotent
    for affiliate in (world.a.affiliate, world.a.affiliate2):
        mine = [c for c in counted.values() if c.affiliate_id == affiliate.pk]
        if basis == "amount":  # refunds and rejections after the true-up move the period's sales: it is re-trued
            still = Commission.objects.filter(pk__in=[c.pk for c in mine], status__in=services.LIABLE)
            reached = sum((c.base_amount - c.refunded_base for c in still), D(0))
            if mine:
                assert TierTrueUp.objects.get(program=program, affiliate=affiliate).amount == reached
        else:  # the count the true-up counted stays
            reached = D(len(mine))
        rate = tier_rate(payout=rule["payout"], tiers=rule["tiers"], reached=reached)
        expected = D(0)
        for original in Commission.objects.filter(pk__in=[c.pk for c in mine]).select_related("conversion"):
            if original.status in (S.REJECTED, S.REVERSED):
                continue
            pair = quantize(original.base_amount * rate / 100, "EUR")  # what the tier reached pays for the order
            share = original.refunded_base / original.conversion.amount
            expected += pair - quantize(pair * share, "EUR")
        period = Commission.objects.filter(program=program, affiliate=affiliate).exclude(status=S.REJECTED)
        total = sum((c.amount - c.reversed_amount for c in period), D(0))
        assert total == expected, (affiliate.name, rate, total, expected)
        assert owed(K.AFFILIATE_PENDING, affiliate) == total  # nothing approved: all of it still pending
    assert_ledger_consistent()


def test_a_batch_counts_its_own_earlier_conversions(world):
    _, link = program_with_link(world.a, rules=[RULE])
    ids = [make_conversion(world.a.advertiser, order_id=f"b-{n}", amount=D("100"), link=link).pk for n in range(4)]
    assert services.commissions_for_conversions(conversion_ids=ids) == 4
    made = Commission.objects.filter(conversion_id__in=ids).order_by("conversion_id")
    assert [(c.amount, c.rule_snapshot["conversions_in_period"]) for c in made] == [
        (D("8.00"), 0), (D("8.00"), 1), (D("8.00"), 2), (D("10.00"), 3)]


def test_the_api_shows_an_adjustment_and_what_it_adjusts(world):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 3)
    tier_trueups_run(now=AFTER_OCTOBER)
    rows = world.a.client("affiliate").get("/api/v1/commissions").json()["results"]
    adjustments = [r for r in rows if r["kind"] == "adjustment"]
    assert sorted(r["adjusts"] for r in adjustments) == [c.pk for c in made]
    assert {r["amount"] for r in adjustments} == {"2.00"}
    assert world.b.client("owner").get(f"/api/v1/commissions/{adjustments[0]['id']}").status_code == 404


def test_the_referrers_override_follows_the_trued_up_commission(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, _ = program_with_link(world.a, rules=[RULE], second_tier_percent=D("10"))
    link = make_link(make_partnership(program, referred))
    made = _october(world.a, link, 3)
    overrides = list(Commission.objects.filter(tier=2).order_by("pk"))
    assert [o.amount for o in overrides] == [D("0.80")] * 3
    tier_trueups_run(now=AFTER_OCTOBER)
    bonus = Commission.objects.filter(kind="adjustment", tier=2).order_by("pk")
    assert [(b.adjusts_id, b.amount, b.affiliate_id) for b in bonus] == [
        (o.pk, D("0.20"), world.a.affiliate.pk) for o in overrides]
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("3.00")  # 10 % of 3 x 10.00
    services.commission_reject(network=world.a.network, commission=made[0])
    assert set(Commission.objects.filter(conversion_id=made[0].conversion_id).values_list("status", flat=True)) == {
        "rejected"}
    _refund(made[1].network_id, made[1].conversion_id, "50")
    pair = Commission.objects.filter(conversion_id=made[1].conversion_id, tier=2)
    assert sum((c.amount - c.reversed_amount for c in pair), D(0)) == D("0.50")
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("1.50")
    assert_ledger_consistent()


def test_the_explanation_shows_the_trueups_adjustment_and_reduction(world):
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)
    services.commission_reject(network=world.a.network, commission=made[2])  # 3 count: the tier still holds
    tier_trueups_run(now=AFTER_OCTOBER)
    [adjustment] = [a for a in _adjustments() if a.adjusts_id == made[0].pk]
    body = world.a.client("affiliate").get(f"/api/v1/commissions/{made[0].pk}").json()["explanation"]
    assert [(a["id"], a["amount"]) for a in body["adjustments"]] == [(adjustment.pk, "2.00")]
    assert "revenue" not in body["adjustments"][0]
    page = world.a.client("advertiser").get(f"/api/v1/commissions/{made[1].pk}").json()["explanation"]
    assert len(page["adjustments"]) == 1 and page["reversals"] is None

    # Two rejected: the 4th was paid 10 % for a tier that no longer holds, and the true-up lowered it.
    _, link_b = program_with_link(world.b, rules=[RULE])
    made_b = _october(world.b, link_b, 4)
    for commission in made_b[:2]:
        services.commission_reject(network=world.b.network, commission=commission)
    tier_trueups_run(now=AFTER_OCTOBER)
    reduced = world.b.client("affiliate").get(f"/api/v1/commissions/{made_b[3].pk}").json()["explanation"]
    assert reduced["reversals"]["trued_down"] == {"amount": "2.00"}
    assert "Tier true-up 2026-10: rate 10 -> 8" in reduced["reversals"]["reason"]
    assert "Refund" not in reduced["reversals"]["reason"]
