"""A correction that moves a trued-up period's sales into another tier (`tier_basis: "amount"`) re-trues the
period: every commission the true-up governs ends at the rate the corrected total reaches, through its adjustment
(created or changed) or its `trued_down` reduction, refunds staying refunded and the ledger balanced per currency."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest

from commissions import services
from commissions.models import Account, Commission, TierTrueUp, Transaction
from commissions.trueup import tier_trueups_run
from network.models import AuditLog
from reports.rebuild import days_rebuild
from tests.factories import make_affiliate, make_link, make_partnership
from tests.pages import web_client
from tests.reports.daytables import day_tables

from .helpers import assert_ledger_consistent, convert, owed, program_with_link
from .test_conversion_adjust_terms import AMOUNT_RULE, _adjust, _explanation, _ok, _pair
from .test_tiers_trueup import AFTER_OCTOBER, OCTOBER

pytestmark = pytest.mark.django_db
D = Decimal
PENDING = Account.Kind.AFFILIATE_PENDING
APPROVED = Account.Kind.AFFILIATE_APPROVED
RECEIVABLE = Account.Kind.ADVERTISER_RECEIVABLE


def _october(tenant, link, amounts, currency=None):
    extra = {"currency": currency} if currency else {}
    return [convert(tenant, link, f"oct-{i}", amount, created_at=OCTOBER + timedelta(hours=i), **extra)[1][0]
            for i, amount in enumerate(amounts)]


def _refund(tenant, commission, amount):
    response = tenant.client("advertiser").post(f"/api/v1/conversions/{commission.conversion_id}/refund",
                                                {"amount": amount}, format="json")
    assert response.status_code == 200, response.content


def _adjustment(commission):
    return Commission.objects.filter(adjusts=commission).first()


def _assert_books(affiliate, advertiser, currency="EUR"):
    """Balanced per currency; what the affiliate is owed (pending + approved) is what its commissions still pay,
    and the advertiser owes what its commissions still cost."""
    assert_ledger_consistent()
    live = Commission.objects.filter(affiliate=affiliate, currency=currency, status__in=services.LIABLE)
    payable = owed(PENDING, affiliate, currency) + owed(APPROVED, affiliate, currency)
    assert payable == sum((c.remaining_amount for c in live), D(0))
    costs = Commission.objects.filter(advertiser=advertiser, currency=currency, status__in=services.LIABLE)
    assert owed(RECEIVABLE, advertiser, currency) == sum((c.remaining_revenue for c in costs), D(0))


def _commission_days_kept(network):
    """The commission day tables moved with every change: a rebuild from the commissions finds the same rows (the
    conversions' are left out: the tests date their sales back after recording them)."""
    kept = {key: row for key, row in day_tables(network.pk).items() if key[0].startswith("Commission")}
    days_rebuild(network.pk)
    assert kept and {key: row for key, row in day_tables(network.pk).items()
                     if key[0].startswith("Commission")} == kept


def test_a_correction_lifting_the_period_over_the_threshold_raises_its_other_commissions(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second = _october(world.a, link, ["100", "100"])
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1  # 200.00: below 250.00, nothing changes
    assert not Commission.objects.filter(kind="adjustment").exists()
    with mock.patch("commissions.notifications.events_emit") as emit:
        _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))  # 300.00: the 10 % tier
    assert TierTrueUp.objects.get().amount == D("300")
    assert [_pair(c) for c in (first, second)] == [D("20.00"), D("10.00")]  # 10 % of 200.00 and of 100.00
    adjustments = Commission.objects.filter(kind="adjustment").order_by("adjusts_id")
    assert [(a.adjusts_id, a.amount, a.revenue, a.status) for a in adjustments] == [
        (first.pk, D("4.00"), D("4.00"), "pending"), (second.pk, D("2.00"), D("2.00"), "pending")]
    assert all(a.rule_snapshot["rate"] == "10" for a in adjustments)
    assert adjustments[1].rule_snapshot["trueup"]["amount_in_period"] == "300"
    assert "order oct-0 corrected" in adjustments[1].reason
    assert owed(PENDING, world.a.affiliate) == D("30.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
    # The true-up's records: the new adjustments are created and told as an increase.
    events = [(e.event, e.data["id"], e.data.get("adjustment")) for call in emit.call_args_list
              for e in call.kwargs["events"]]
    assert ("commission.created", adjustments[1].pk, None) in events
    assert ("commission.adjusted", adjustments[1].pk, "increase") in events
    explained = _explanation(world.a, second)
    # The adjustment's tier data: the period's sales the re-true counted, not those when the sale was computed.
    assert explained["adjustments"][0]["snapshot"] == {"tier_basis": "amount", "amount_in_period": "300",
                                                      "rate": "10", "conversions_in_period": 2}
    retrue = explained["period_retrues"]
    assert [(r["order_id"], r["amount_in_period_before"], r["amount_in_period"], r["rate_before"], r["rate"],
             r["amount_before"], r["amount"]) for r in retrue] == [
        ("oct-0", "200.00", "300.00", "8", "10", "8.00", "10.00")]
    assert "oct-0" in retrue[0]["reason"]
    assert AuditLog.objects.filter(action="commission.retrued", target_id=str(second.pk)).count() == 1
    for client, url in ((web_client(world.a.advertiser), f"/advertiser/commissions/{second.pk}/"),
                        (web_client(world.a.affiliate), f"/partner/commissions/{second.pk}/")):
        page = client.get(url)
        assert page.status_code == 200
        shown = page.content.decode()
        assert 'data-testid="explain-period-retrue"' in shown and "oct-0" in shown and "10%" in shown


def test_a_correction_lowering_the_period_below_the_threshold_lowers_its_other_commissions(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second, third = _october(world.a, link, ["200", "100", "100"])  # 8 %, 8 %, then 10 % (from 300.00)
    assert third.amount == D("10.00")
    tier_trueups_run(now=AFTER_OCTOBER)  # 400.00: the first two raised to 10 %, the third left as it was
    assert Commission.objects.filter(kind="adjustment").count() == 2
    assert owed(PENDING, world.a.affiliate) == D("40.00")
    with mock.patch("commissions.notifications.events_emit") as emit:
        _ok(_adjust(world.a, first.conversion, {"amount": "20.00"}))  # 220.00: below 250.00
    assert [_pair(c) for c in (first, second, third)] == [D("1.60"), D("8.00"), D("8.00")]
    assert _adjustment(second).amount == D("0.00")  # the true-up had raised it: its adjustment goes
    assert _adjustment(second).rule_snapshot["rate"] == "8"
    third.refresh_from_db()  # left at its own 10 % by the true-up: now reduced to 8 %
    assert third.rule_snapshot["trued_down"] == {"amount": "2.00", "revenue": "2.00"}
    assert (third.amount, third.reversed_amount, third.status) == (D("10.00"), D("2.00"), "pending")
    assert third.rule_snapshot["trueup"]["rate"] == "8" and third.rule_snapshot["trueup"]["rate_before"] == "10"
    assert Transaction.objects.filter(kind="commission.trued_down", ref_id=str(third.pk)).count() == 1
    assert owed(PENDING, world.a.affiliate) == D("17.60")
    _assert_books(world.a.affiliate, world.a.advertiser)
    changes = {e.data["id"]: e.data["change"] for call in emit.call_args_list for e in call.kwargs["events"]
               if e.event == "commission.adjusted" and e.data.get("adjustment") == "conversion"}
    assert changes[third.pk]["amount"] == "-2.00" and changes[_adjustment(second).pk]["amount"] == "-2.00"
    # Back over the threshold: each one is raised again, the reduction taken back.
    _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))
    assert [_pair(c) for c in (first, second, third)] == [D("20.00"), D("10.00"), D("10.00")]
    third.refresh_from_db()
    assert (third.reversed_amount, len(third.rule_snapshot["retrued"])) == (D("0.00"), 2)
    assert owed(PENDING, world.a.affiliate) == D("40.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _commission_days_kept(world.a.network)


def test_a_lowering_correction_after_refunds_from_before_the_true_up_pays_the_corrected_sale_the_rate_reached(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second = _october(world.a, link, ["300", "100"])  # 8 % of 300.00 = 24.00; 10 % of 100.00 = 10.00
    _refund(world.a, first, "100.00")  # before the true-up: 8.00 of the first reversed
    tier_trueups_run(now=AFTER_OCTOBER)  # 300.00 net: the first raised (6.00, a third refunded), the second kept
    assert [_pair(c) for c in (first, second)] == [D("20.00"), D("10.00")]
    _ok(_adjust(world.a, second.conversion, {"amount": "20.00"}))  # 220.00 net: below 250.00
    second.refresh_from_db()
    # The corrected sale the true-up had left at its own rate is paid 8 % of 20.00, not 10 %.
    assert (second.amount, second.reversed_amount, _pair(second)) == (D("2.00"), D("0.40"), D("1.60"))
    retrue = _explanation(world.a, second)["period_retrues"]
    assert [(r["order_id"], r["rate_before"], r["rate"], r["amount_before"], r["amount"]) for r in retrue] == [
        ("oct-1", "10", "8", "2.00", "1.60")]
    assert "this sale is paid at the rate they reach, 8%" in retrue[0]["reason"]
    first.refresh_from_db()
    assert (first.refunded_base, first.reversed_amount) == (D("100"), D("8.00"))  # the refund stays refunded
    assert (_adjustment(first).amount, _adjustment(first).reversed_amount) == (D("0.00"), D("0.00"))
    assert _pair(first) == D("16.00")  # 8 % of the 200.00 left of the order
    assert owed(PENDING, world.a.affiliate) == D("17.60")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_re_true_reverses_a_refunded_commission_in_proportion_to_what_remains(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second, third = _october(world.a, link, ["300", "100", "100"])  # 24.00, then 10 % = 10.00 and 10.00
    _refund(world.a, second, "25.00")  # a quarter: 2.50 reversed, 7.50 left
    _refund(world.a, third, "50.00")  # half: 5.00 reversed, 5.00 left
    tier_trueups_run(now=AFTER_OCTOBER)  # 425.00 net: 10 %, the first raised
    assert [_pair(c) for c in (first, second, third)] == [D("30.00"), D("7.50"), D("5.00")]
    _ok(_adjust(world.a, first.conversion, {"amount": "100.00"}))  # 225.00 net: 8 %
    # 8 % of what remains of each order: 100.00, 75.00 and 50.00.
    assert [_pair(c) for c in (first, second, third)] == [D("8.00"), D("6.00"), D("4.00")]
    third.refresh_from_db()
    # 2.00 off the third's 10.00, the rest halved: 2.00 + 4.00 reversed, the refund's half stays reversed.
    assert (third.refunded_base, third.rule_snapshot["trued_down"]["amount"], third.reversed_amount) == (
        D("50"), "2.00", D("6.00"))
    assert owed(PENDING, world.a.affiliate) == D("18.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _ok(_adjust(world.a, first.conversion, {"amount": "300.00"}))  # 425.00 again: 10 %
    assert [_pair(c) for c in (first, second, third)] == [D("30.00"), D("7.50"), D("5.00")]
    third.refresh_from_db()
    assert (third.rule_snapshot["trued_down"]["amount"], third.reversed_amount) == ("0.00", D("5.00"))
    assert owed(PENDING, world.a.affiliate) == D("42.50")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_re_true_in_yen_pays_whole_yen(world):
    rule = AMOUNT_RULE | {"tiers": [{"min_amount": "25000", "payout": "10"}]}
    _, link = program_with_link(world.a, rules=[rule], currency="JPY")
    first, second = _october(world.a, link, ["10000", "10001"], currency="JPY")  # 800 and 800 (800.08)
    tier_trueups_run(now=AFTER_OCTOBER)
    _ok(_adjust(world.a, first.conversion, {"amount": "15001"}))  # 25002: the 10 % tier
    assert [_pair(c) for c in (first, second)] == [D("1500"), D("1000")]  # 1500.1 and 1000.1, in whole yen
    assert [a.amount for a in Commission.objects.filter(kind="adjustment").order_by("adjusts_id")] == [
        D("300"), D("200")]
    assert owed(PENDING, world.a.affiliate, "JPY") == D("2500")
    assert all(c.amount == c.amount.quantize(D(1)) for c in Commission.objects.all())
    _assert_books(world.a.affiliate, world.a.advertiser, "JPY")


def test_a_paid_commission_lowered_is_taken_back_from_the_next_payout_and_raised_by_a_new_adjustment(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second, third = _october(world.a, link, ["200", "100", "100"])  # 8 %, 8 %, 10 %
    tier_trueups_run(now=AFTER_OCTOBER)
    services.commission_approve(network=world.a.network, commission=third)
    services.commissions_mark_paid(network=world.a.network, commission_ids=[third.pk])
    approved_before = owed(APPROVED, world.a.affiliate)
    _ok(_adjust(world.a, first.conversion, {"amount": "20.00"}))  # 220.00: 8 %
    third.refresh_from_db()
    assert (third.status, third.rule_snapshot["trued_down"]["amount"], third.remaining_amount) == (
        "paid", "2.00", D("8.00"))
    assert owed(APPROVED, world.a.affiliate) == approved_before - D("2.00")  # netted by the next payout
    _assert_books(world.a.affiliate, world.a.advertiser)
    _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))  # 400.00: 10 % again, the reduction gone
    third.refresh_from_db()
    assert (third.status, third.reversed_amount, owed(APPROVED, world.a.affiliate)) == (
        "paid", D("0.00"), approved_before)
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_correction_within_the_tier_or_replayed_changes_no_other_commission(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second = _october(world.a, link, ["100", "100"])
    tier_trueups_run(now=AFTER_OCTOBER)
    _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))  # 300.00: the 10 % tier
    postings = Transaction.objects.count()
    response = _adjust(world.a, first.conversion, {"amount": "200.00"})  # the same again
    assert response.status_code == 400
    assert Transaction.objects.count() == postings
    _ok(_adjust(world.a, first.conversion, {"amount": "190.00"}))  # 290.00: still the 10 % tier
    assert _pair(second) == D("10.00") and len(Commission.objects.get(pk=second.pk).rule_snapshot["retrued"]) == 1
    assert not Transaction.objects.filter(ref_id=str(_adjustment(second).pk), kind="commission.adjusted").exists()
    assert Transaction.objects.count() == postings + 2  # the corrected sale and its adjustment only
    assert owed(PENDING, world.a.affiliate) == D("29.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_another_networks_conversion_is_404_and_re_trues_nothing(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second = _october(world.a, link, ["100", "100"])
    tier_trueups_run(now=AFTER_OCTOBER)
    postings = Transaction.objects.count()
    response = world.b.client("advertiser").post(f"/api/v1/conversions/{first.conversion_id}/adjust",
                                                 {"amount": "200.00"}, format="json")
    assert response.status_code == 404
    assert Transaction.objects.count() == postings and not Commission.objects.filter(kind="adjustment").exists()
    assert TierTrueUp.objects.get().amount == D("200")
    assert [_pair(c) for c in (first, second)] == [D("8.00"), D("8.00")]
    _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))  # its own network's correction re-trues
    assert [_pair(c) for c in (first, second)] == [D("20.00"), D("10.00")]
    _assert_books(world.a.affiliate, world.a.advertiser)


THREE_TIERS = AMOUNT_RULE | {"tiers": [{"min_amount": "250", "payout": "10"}, {"min_amount": "400", "payout": "12"}]}


def test_a_corrected_sale_raised_by_the_true_up_falls_below_its_own_rate_when_the_period_does(world):
    _, link = program_with_link(world.a, rules=[THREE_TIERS])
    first, second, third = _october(world.a, link, ["120.00", "180.00", "333.33"])  # 8 %, 8 %, then 10 %
    _refund(world.a, first, "60.00")
    _refund(world.a, second, "90.00")
    tier_trueups_run(now=AFTER_OCTOBER)  # 483.33 net: 12 %, the third raised from its own 10 %
    assert _pair(third) == D("40.00")
    _ok(_adjust(world.a, third.conversion, {"amount": "40.00"}))  # 190.00 net: 8 %, below the third's own rate
    third.refresh_from_db()
    assert (third.amount, third.rule_snapshot["trued_down"]["amount"], _pair(third)) == (
        D("4.00"), "0.80", D("3.20"))
    assert [_pair(c) for c in (first, second)] == [D("4.80"), D("7.20")]  # 8 % of the 60.00 and 90.00 left
    assert owed(PENDING, world.a.affiliate) == D("15.20")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_corrected_sale_reduced_by_the_true_up_gets_an_adjustment_above_its_own_rate(world):
    _, link = program_with_link(world.a, rules=[THREE_TIERS])
    first, second = _october(world.a, link, ["333.33", "120.00"])  # 8 %, then 10 % = 12.00
    _refund(world.a, first, "250.00")
    tier_trueups_run(now=AFTER_OCTOBER)  # 203.33 net: 8 %, the second reduced by 2.40
    assert _pair(second) == D("9.60")
    _ok(_adjust(world.a, second.conversion, {"amount": "500.00"}))  # 583.33 net: 12 %
    second.refresh_from_db()
    adjustment = _adjustment(second)
    assert (second.amount, second.reversed_amount, adjustment.amount, _pair(second)) == (
        D("50.00"), D("0.00"), D("10.00"), D("60.00"))
    assert _pair(first) == D("10.00")  # 12 % of the 83.33 left: 26.67 less 20.00 reversed, and 3.33 of its 13.33
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_the_referrers_override_follows_its_re_trued_commission(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, _ = program_with_link(world.a, rules=[AMOUNT_RULE], second_tier_percent=D("10"))
    link = make_link(make_partnership(program, referred))
    first, second, third = _october(world.a, link, ["200", "100", "100"])  # 8 %, 8 %, then 10 %
    tier_trueups_run(now=AFTER_OCTOBER)  # 400.00: 10 %; the overrides of the first two raised by 0.40 and 0.20
    overrides = {c.parent_id: c for c in Commission.objects.filter(tier=2, kind="second_tier")}
    assert [_pair(overrides[c.pk]) for c in (first, second, third)] == [D("2.00"), D("1.00"), D("1.00")]
    _ok(_adjust(world.a, first.conversion, {"amount": "20.00"}))  # 220.00: 8 %
    assert [_pair(overrides[c.pk]) for c in (first, second, third)] == [D("0.16"), D("0.80"), D("0.80")]
    third_override = Commission.objects.get(pk=overrides[third.pk].pk)
    assert (third_override.rule_snapshot["trued_down"]["amount"], third_override.reversed_amount) == (
        "0.20", D("0.20"))
    assert owed(PENDING, world.a.affiliate) == D("1.76")  # the referrer: 10 % of 1.60 + 8.00 + 8.00
    _assert_books(world.a.affiliate, world.a.advertiser)
    _assert_books(referred, world.a.advertiser)


def test_a_commission_corrected_after_refunds_is_re_trued_from_where_its_correction_left_it(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second = _october(world.a, link, ["333.33", "120.00"])  # 8 %, then 10 % = 12.00
    _refund(world.a, first, "250.00")
    _refund(world.a, second, "20.00")
    tier_trueups_run(now=AFTER_OCTOBER)  # 183.33 net: 8 %, the second reduced by 2.40 (8.00 left)
    _ok(_adjust(world.a, second.conversion, {"amount": "110.00"}))  # 173.33: 8.80 less the 1.60 refunds reversed
    assert _pair(second) == D("7.20")
    _ok(_adjust(world.a, first.conversion, {"amount": "500.00"}))  # 340.00 net: 10 %
    second.refresh_from_db()
    # The reduction (2.20) is taken back on the 90.00 left of the order (1.80); the 20.00 refunded stays refunded,
    # now at 10 % (2.00 reversed): 10 % of the 90.00 left.
    assert (second.rule_snapshot["trued_down"]["amount"], second.reversed_amount, _pair(second)) == (
        "0.00", D("2.00"), D("9.00"))
    assert _pair(first) == D("25.00")  # 10 % of the 250.00 left: 20.00, and 5.00 of its new 10.00 adjustment
    assert owed(PENDING, world.a.affiliate) == D("34.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_sale_corrected_after_a_refund_before_the_true_up_is_paid_the_tier_on_what_remains(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first, second, third = _october(world.a, link, ["150.00", "100.00", "100.00"])  # 8 %, 8 %, then 10 %
    _refund(world.a, first, "50.00")  # 4.00 reversed
    _ok(_adjust(world.a, first.conversion, {"amount": "120.00"}))  # 9.60 less the 4.00 reversed
    assert _pair(first) == D("5.60")
    tier_trueups_run(now=AFTER_OCTOBER)  # 270.00 net: 10 %
    adjustment = _adjustment(first)
    assert "refund_rebase" not in adjustment.rule_snapshot  # the commission's own, not the adjustment's
    # 12.00 in all, 2.40 of it the adjustment's: the refunded 50.00 of 120.00 reverses 5.00 of the pair, 1.00 of it.
    assert (adjustment.amount, adjustment.reversed_amount) == (D("2.40"), D("1.00"))
    assert _pair(first) == D("7.00")  # 10 % of the 70.00 left, not the own 8 %
    assert owed(PENDING, world.a.affiliate) == D("27.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
