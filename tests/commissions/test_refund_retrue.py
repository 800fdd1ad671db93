"""A refund or a rejection after the tier true-up (`tier_basis: "amount"`) lowers the period's sales net of refunds, as
a correction moves them: the true-up's record keeps the running total, and a total in another tier re-trues the period
(`retrue.period_sales_lost`): every commission it governs, the refunded one's remaining share included, ends at the
rate the new total reaches, the ledger balanced per currency.

The worked month: October's sales 200.00 (8 % = 16.00), 100.00 (8 % = 8.00) and 100.00 (computed at 10 % = 10.00,
the month then at 300.00); the true-up at 400.00 (10 % from 250.00) raises the first two by 4.00 and 2.00 and leaves
the third: 20.00 + 10.00 + 10.00 = 40.00."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions import services
from commissions.models import Commission, TierTrueUp, Transaction
from commissions.trueup import tier_trueups_run
from network.models import AuditLog
from tests.factories import make_affiliate, make_link, make_partnership
from tests.pages import web_client
from tracking.models import Conversion

from .helpers import convert, owed, program_with_link
from .test_conversion_adjust_retrue import APPROVED, PENDING, _adjustment, _assert_books, _commission_days_kept
from .test_conversion_adjust_terms import AMOUNT_RULE, _adjust, _explanation, _ok, _pair
from .test_tiers_trueup import AFTER_OCTOBER, OCTOBER

pytestmark = pytest.mark.django_db
D = Decimal


def _trued_up_october(tenant, link, amounts=("200", "100", "100")):
    made = [convert(tenant, link, f"oct-{i}", amount, created_at=OCTOBER + timedelta(hours=i))[1][0]
            for i, amount in enumerate(amounts)]
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1
    return made


def _refund(tenant, commission, amount=None):
    body = {} if amount is None else {"amount": amount}
    return tenant.client("advertiser").post(f"/api/v1/conversions/{commission.conversion_id}/refund", body,
                                            format="json")


def _month():
    return TierTrueUp.objects.get().amount


@pytest.fixture
def october(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    made = _trued_up_october(world.a, link)
    assert [_pair(c) for c in made] == [D("20.00"), D("10.00"), D("10.00")]
    assert owed(PENDING, world.a.affiliate) == D("40.00")
    return made


def test_a_partial_refund_taking_the_month_below_the_tier_re_trues_it_on_what_remains(world, october):
    first, second, third = october
    with mock.patch("commissions.notifications.events_emit") as emit:
        _ok(_refund(world.a, first, "160.00"))  # 240.00 net: below 250.00, 8 %
    assert _month() == D("240")
    # The first: 8 % of the 40.00 left (3.20); the second: 8 % of 100.00 (its adjustment at zero); the third reduced.
    assert [_pair(c) for c in (first, second, third)] == [D("3.20"), D("8.00"), D("8.00")]
    first.refresh_from_db()
    # Not counted twice: the refund reversed 16.00 of the 20.00 pair at 10 %; the re-true leaves 8 % of what remains.
    assert (first.amount, first.refunded_base, first.reversed_amount) == (D("16.00"), D("160"), D("12.80"))
    assert (_adjustment(first).amount, _adjustment(first).reversed_amount) == (D("0.00"), D("0.00"))
    assert (_adjustment(second).amount, _adjustment(second).rule_snapshot["rate"]) == (D("0.00"), "8")
    third.refresh_from_db()
    assert (third.rule_snapshot["trued_down"], third.reversed_amount) == ({"amount": "2.00", "revenue": "2.00"},
                                                                          D("2.00"))
    assert "order oct-0 refunded" in _adjustment(second).reason and "order oct-0 refunded" in third.reason
    assert owed(PENDING, world.a.affiliate) == D("19.20")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _commission_days_kept(world.a.network)
    changes = {e.data["id"]: e.data["change"]["amount"] for call in emit.call_args_list
               for e in call.kwargs["events"] if e.event == "commission.adjusted"
               and e.data.get("adjustment") == "conversion"}
    assert changes[third.pk] == "-2.00" and changes[_adjustment(second).pk] == "-2.00"
    assert AuditLog.objects.filter(action="commission.retrued", target_id=str(second.pk)).count() == 1
    retrues = _explanation(world.a, second)["period_retrues"]
    assert [(r["order_id"], r["amount_in_period_before"], r["amount_in_period"], r["rate_before"], r["rate"],
             r["amount_before"], r["amount"]) for r in retrues] == [
        ("oct-0", "400.00", "240.00", "10", "8", "10.00", "8.00")]
    assert retrues[0]["cause"] == "refunded"
    assert "A refund of another order of the period (oct-0)" in retrues[0]["reason"]
    own = _explanation(world.a, first)["period_retrues"]
    assert [(r["amount_before"], r["amount"]) for r in own] == [("4.00", "3.20")]
    assert "The refund of this order" in own[0]["reason"] and "8%" in own[0]["reason"]
    for client, url in ((web_client(world.a.advertiser), f"/advertiser/commissions/{third.pk}/"),
                        (web_client(world.a.affiliate), f"/partner/commissions/{third.pk}/")):
        page = client.get(url)
        assert page.status_code == 200
        shown = page.content.decode()
        assert 'data-testid="explain-period-retrue"' in shown and "oct-0" in shown and "8%" in shown


def test_a_refund_that_keeps_the_month_in_its_tier_moves_no_other_commission(world, october):
    first, second, third = october
    postings = Transaction.objects.count()
    _ok(_refund(world.a, third, "80.00"))  # 320.00 net: still 10 %
    assert _month() == D("320")
    assert [_pair(c) for c in (first, second, third)] == [D("20.00"), D("10.00"), D("2.00")]
    assert Transaction.objects.count() == postings + 1  # the third's reversal only
    assert not any("retrued" in c.rule_snapshot for c in Commission.objects.all())
    assert not AuditLog.objects.filter(action="commission.retrued").exists()
    assert owed(PENDING, world.a.affiliate) == D("32.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_full_refund_takes_the_order_out_of_the_month_and_re_trues_the_others(world, october):
    first, second, third = october
    _ok(_refund(world.a, first))  # the whole 200.00: 200.00 left in the month, 8 %
    assert _month() == D("200")
    first.refresh_from_db()
    assert (first.status, _adjustment(first).status) == ("reversed", "reversed")
    # The first pays nothing; the second 8.00 (its adjustment at zero); the third 8.00 (reduced by 2.00).
    assert [_pair(c) for c in (first, second, third)] == [D("0.00"), D("8.00"), D("8.00")]
    assert owed(PENDING, world.a.affiliate) == D("16.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_rejection_after_the_true_up_takes_the_order_out_of_the_month(world, october):
    first, second, third = october
    response = world.a.client("advertiser").post(f"/api/v1/commissions/{first.pk}/reject",
                                                 {"reason": "cancelled"}, format="json")
    assert response.status_code == 200, response.content
    assert _month() == D("200")  # 400.00 less the 200.00 rejected: 8 %
    assert _adjustment(first).status == "rejected"
    assert [_pair(c) for c in (second, third)] == [D("8.00"), D("8.00")]
    third.refresh_from_db()
    assert third.rule_snapshot["trued_down"]["amount"] == "2.00" and "order oct-0 rejected" in third.reason
    retrues = _explanation(world.a, third)["period_retrues"]
    assert retrues[0]["cause"] == "rejected"
    assert "The rejection of another order of the period (oct-0)" in retrues[0]["reason"]
    assert owed(PENDING, world.a.affiliate) == D("16.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
    # Rejecting an adjustment alone takes no sale out of the month.
    services.commission_reject(network=world.a.network, commission=_adjustment(second))
    assert _month() == D("200") and _pair(third) == D("8.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_refund_then_a_correction_add_up(world, october):
    first, second, third = october
    _ok(_refund(world.a, second, "50.00"))  # 350.00: still 10 %; the second pays 5.00
    assert [_pair(c) for c in (first, second, third)] == [D("20.00"), D("5.00"), D("10.00")]
    _ok(_adjust(world.a, first.conversion, {"amount": "50.00"}))  # 200.00: 8 %
    assert _month() == D("200")
    # 8 % of 50.00, of the 50.00 left of the second, and of 100.00.
    assert [_pair(c) for c in (first, second, third)] == [D("4.00"), D("4.00"), D("8.00")]
    assert owed(PENDING, world.a.affiliate) == D("16.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _ok(_adjust(world.a, first.conversion, {"amount": "200.00"}))  # 350.00 again: 10 %
    assert _month() == D("350")
    assert [_pair(c) for c in (first, second, third)] == [D("20.00"), D("5.00"), D("10.00")]
    assert owed(PENDING, world.a.affiliate) == D("35.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_correction_then_a_refund_add_up(world, october):
    first, second, third = october
    _ok(_adjust(world.a, first.conversion, {"amount": "150.00"}))  # 350.00: still 10 %, the first pays 15.00
    assert [_pair(c) for c in (first, second, third)] == [D("15.00"), D("10.00"), D("10.00")]
    _ok(_refund(world.a, first, "120.00"))  # 230.00: 8 %
    assert _month() == D("230")
    # 8 % of the 30.00 left of the first, of 100.00 and of 100.00.
    assert [_pair(c) for c in (first, second, third)] == [D("2.40"), D("8.00"), D("8.00")]
    assert owed(PENDING, world.a.affiliate) == D("18.40")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _ok(_adjust(world.a, first.conversion, {"amount": "300.00"}))  # 180.00 left of it: 380.00, 10 %
    assert _month() == D("380")
    # 10 % of the 180.00 left of the first: its refund reversed 9.60 at 8 %, and 12.00 at the 10 % the month reaches
    # again (the adjustment's 6.00 reverses its refunded share, 2.40).
    assert [_pair(c) for c in (first, second, third)] == [D("18.00"), D("10.00"), D("10.00")]
    assert (_adjustment(first).amount, _adjustment(first).reversed_amount) == (D("6.00"), D("2.40"))
    assert owed(PENDING, world.a.affiliate) == D("38.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_refunded_order_corrected_into_a_higher_tier_pays_that_rate_on_what_remains(world, october):
    first, second, third = october
    _ok(_refund(world.a, first, "160.00"))  # 240.00: 8 %, the third reduced by 2.00
    _ok(_refund(world.a, third, "50.00"))  # 190.00: the third pays 8 % of 50.00
    assert [_pair(c) for c in (first, second, third)] == [D("3.20"), D("8.00"), D("4.00")]
    _ok(_adjust(world.a, third.conversion, {"amount": "200.00"}))  # 290.00: 10 %
    assert _month() == D("290")
    # The third: 10 % of the 150.00 left of its order. Its refund reversed 4.00 at 8 %; at 10 % that share is 5.00
    # (it paid 16.00 when the reduction's end took the whole 2.00 back and left the refund at 8 %).
    assert [_pair(c) for c in (first, second, third)] == [D("4.00"), D("10.00"), D("15.00")]
    third.refresh_from_db()
    assert (third.amount, third.reversed_amount, third.rule_snapshot["trued_down"]) == (
        D("20.00"), D("5.00"), {"amount": "0.00", "revenue": "0.00"})
    assert owed(PENDING, world.a.affiliate) == D("29.00")
    _assert_books(world.a.affiliate, world.a.advertiser)
    # Refunding the rest of it (month 140.00: 8 %) reverses all of it; the others go back to 8 %.
    _ok(_refund(world.a, third))
    assert [_pair(c) for c in (first, second, third)] == [D("3.20"), D("8.00"), D("0.00")]
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_replayed_refund_changes_nothing(world, october):
    first, second, third = october
    _ok(_refund(world.a, first))  # 200.00: 8 %
    postings, month = Transaction.objects.count(), _month()
    pairs = [_pair(c) for c in (first, second, third)]
    response = _refund(world.a, first)  # the same refund again
    assert response.status_code == 400
    # The commissions' side of the refund delivered twice (the signal run again): nothing more to reverse.
    conversion = Conversion.objects.get(pk=first.conversion_id)
    services.commissions_reverse_for_refund(conversion=conversion, amount=D("200.00"))
    assert (Transaction.objects.count(), _month()) == (postings, month)
    assert [_pair(c) for c in (first, second, third)] == pairs == [D("0.00"), D("8.00"), D("8.00")]
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_a_paid_commission_lowered_by_a_refund_is_taken_back_from_the_next_payout(world, october):
    first, second, third = october
    services.commission_approve(network=world.a.network, commission=third)
    services.commissions_mark_paid(network=world.a.network, commission_ids=[third.pk])
    approved_before = owed(APPROVED, world.a.affiliate)
    _ok(_refund(world.a, first, "160.00"))  # 240.00: 8 %
    third.refresh_from_db()
    assert (third.status, third.rule_snapshot["trued_down"]["amount"], third.remaining_amount) == (
        "paid", "2.00", D("8.00"))
    assert owed(APPROVED, world.a.affiliate) == approved_before - D("2.00")  # netted by the next payout
    assert owed(PENDING, world.a.affiliate) == D("11.20")  # the first's 3.20 and the second's 8.00
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_the_referrers_override_follows_its_commission_re_trued_by_a_refund(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, _ = program_with_link(world.a, rules=[AMOUNT_RULE], second_tier_percent=D("10"))
    first, second, third = _trued_up_october(world.a, make_link(make_partnership(program, referred)))
    overrides = {c.parent_id: c for c in Commission.objects.filter(tier=2, kind="second_tier")}
    assert [_pair(overrides[c.pk]) for c in (first, second, third)] == [D("2.00"), D("1.00"), D("1.00")]
    _ok(_refund(world.a, first, "160.00"))  # 240.00: 8 %
    # 10 % of what each commission now pays: 3.20, 8.00 and 8.00.
    assert [_pair(overrides[c.pk]) for c in (first, second, third)] == [D("0.32"), D("0.80"), D("0.80")]
    assert Commission.objects.get(pk=overrides[third.pk].pk).rule_snapshot["trued_down"]["amount"] == "0.20"
    assert owed(PENDING, world.a.affiliate) == D("1.92")  # the referrer's
    assert owed(PENDING, referred) == D("19.20")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _assert_books(referred, world.a.advertiser)


def test_a_refund_before_the_true_up_moves_no_record(world):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    first = convert(world.a, link, "oct-0", "300", created_at=OCTOBER)[1][0]
    _ok(_refund(world.a, first, "100.00"))  # the period is open: the true-up counts the net sale when it closes
    assert not TierTrueUp.objects.exists()
    tier_trueups_run(now=AFTER_OCTOBER)
    assert _month() == D("200") and _pair(first) == D("16.00")
    _assert_books(world.a.affiliate, world.a.advertiser)


def test_the_re_trues_refund_and_rejection_reasons_are_shown_in_the_readers_language():
    from django.utils import translation

    from core.words import reason_shown

    with translation.override("pl"):
        assert reason_shown("Tier true-up 2026-10 again, order A 7 refunded: rate 10 -> 8") == (
            "Ponowne wyrównanie poziomu za 2026-10, zwrot za zamówienie A 7: stawka 10 -> 8")
    with translation.override("lv"):
        assert reason_shown("Tier true-up 2026-W41 again, order oct-0 rejected: rate 10 -> 8") == (
            "Atkārtota līmeņa izlīdzināšana par 2026-W41, noraidīts pasūtījums oct-0: likme 10 -> 8")
    with translation.override("en"):
        assert reason_shown("Tier true-up 2026-10 again, order A 7 refunded: rate 10 -> 8") == (
            "Tier true-up 2026-10 again, order A 7 refunded: rate 10 -> 8")


def test_a_refund_re_truing_a_busy_month_writes_it_in_batches(world):
    """A month of 41 sales: the re-true's reads, day sums and postings are made once for the period, not once per
    commission (about 21 statements each before: 861 for this month; now its saves, records and audit entries)."""
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])
    small = [convert(world.a, link, f"s-{i}", "1.00", created_at=OCTOBER + timedelta(minutes=i))[1][0]
             for i in range(40)]
    big = convert(world.a, link, "big", "300.00", created_at=OCTOBER + timedelta(hours=20))[1][0]
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1  # 340.00: 10 %, each small sale's adjustment pays 0.02
    assert [_pair(c) for c in small] == [D("0.10")] * 40
    with CaptureQueriesContext(connection) as queries:
        _ok(_refund(world.a, big, "91.00"))  # 249.00: 8 %
    assert _month() == D("249")
    assert [_pair(c) for c in small] == [D("0.08")] * 40 and _pair(big) == D("16.72")  # 8 % of the 209.00 left
    assert len(queries.captured_queries) <= 3 * 41 + 100, len(queries.captured_queries)
    assert owed(PENDING, world.a.affiliate) == D("3.20") + D("16.72")
    _assert_books(world.a.affiliate, world.a.advertiser)
    _commission_days_kept(world.a.network)
