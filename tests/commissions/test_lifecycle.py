"""Lifecycle: guarded transitions, the hold-period task, refunds (partial, full, after payout), notifications."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from commissions import ledger, services
from commissions.models import Account, Commission
from commissions.tasks import commission_compute_task, commissions_approve_due_task
from network.models import AuditLog
from tests.factories import make_affiliate, make_link, make_partnership
from tracking.models import Conversion
from tracking.signals import conversion_recorded, conversion_refunded

from .helpers import assert_ledger_consistent, convert, owed, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind


@pytest.fixture
def sale(world):
    _, link = program_with_link(world.a, hold_days=30)
    conversion, [commission] = convert(world.a, link, "o-1", "200.00")
    return conversion, commission


def test_approval_moves_the_money_from_pending_to_approved(world, sale):
    _, commission = sale
    actor = world.a.advertiser.membership.user
    services.commission_approve(network=world.a.network, commission=commission, actor=actor)
    commission.refresh_from_db()
    assert commission.status == "approved" and commission.approved_at is not None
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == 0
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("20.00")
    assert AuditLog.objects.filter(action="commission.approved", target_id=str(commission.pk)).exists()
    assert_ledger_consistent()


@pytest.mark.parametrize(("start", "call", "kwargs"), [
    ("approved", services.commission_approve, {}),
    ("approved", services.commission_reject, {}),
    ("rejected", services.commission_approve, {"operator": True}),
    ("rejected", services.commission_release, {}),
    ("approved", services.commission_hold, {}),
    ("pending", services.commission_mark_unpaid, {}),
])
def test_illegal_transitions_raise_naming_the_state_and_change_nothing(world, sale, start, call, kwargs):
    _, commission = sale
    if start == "approved":
        services.commission_approve(network=world.a.network, commission=commission)
    elif start == "rejected":
        services.commission_reject(network=world.a.network, commission=commission)
    before = list(Account.objects.order_by("pk").values_list("balance", flat=True))
    with pytest.raises(services.TransitionError, match=f"is {start}"):
        call(network=world.a.network, commission=commission, **kwargs)
    commission.refresh_from_db()
    assert commission.status == start
    assert list(Account.objects.order_by("pk").values_list("balance", flat=True)) == before


def test_rejection_reverses_the_creation_posting(world, sale):
    _, commission = sale
    services.commission_reject(network=world.a.network, commission=commission, reason="cancelled")
    commission.refresh_from_db()
    assert commission.status == "rejected" and commission.reason == "cancelled"
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == 0
    assert owed(K.ADVERTISER_RECEIVABLE, world.a.advertiser) == 0
    assert_ledger_consistent()


def test_held_commissions_are_decided_by_operators_only(world, sale):
    _, commission = sale
    services.commission_hold(network=world.a.network, commission=commission, reason="review")
    with pytest.raises(services.TransitionForbidden):
        services.commission_approve(network=world.a.network, commission=commission)
    with pytest.raises(services.TransitionForbidden):
        services.commission_reject(network=world.a.network, commission=commission)
    services.commission_release(network=world.a.network, commission=commission)
    commission.refresh_from_db()
    assert commission.status == "pending"
    services.commission_hold(network=world.a.network, commission=commission)
    services.commission_approve(network=world.a.network, commission=commission, operator=True)
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("20.00")


def test_the_hold_period_task_approves_only_matured_commissions(world):
    _, link = program_with_link(world.a, hold_days=30)
    old, [mature] = convert(world.a, link, "old", "100", created_at=timezone.now() - timedelta(days=31))
    _, [fresh] = convert(world.a, link, "new", "100")
    _, [held] = convert(world.a, link, "held", "100", status="held", created_at=timezone.now() - timedelta(days=40))
    assert commissions_approve_due_task() == 1
    statuses = dict(Commission.objects.values_list("pk", "status"))
    assert statuses == {mature.pk: "approved", fresh.pk: "pending", held.pk: "on_hold"}
    assert commissions_approve_due_task() == 0


def test_partial_refunds_reverse_proportionally_without_rounding_drift(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("15")}])
    conversion, [commission] = convert(world.a, link, "o-1", "100.00")
    services.commission_approve(network=world.a.network, commission=commission)
    for _ in range(3):  # three refunds of a third: 3.33 + 3.34 + 3.33, never 3 x 3.33
        services.commissions_reverse_for_refund(conversion=conversion, amount=D("33.33"))
    commission.refresh_from_db()
    assert commission.status == "approved" and commission.reversed_amount == D("10.00")
    services.commissions_reverse_for_refund(conversion=conversion, amount=D("0.01"))
    commission.refresh_from_db()
    assert commission.status == "reversed" and commission.reversed_revenue == D("15.00")
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == 0
    assert owed(K.ADVERTISER_RECEIVABLE, world.a.advertiser) == 0
    assert_ledger_consistent()


def test_half_refund_reverses_half_and_keeps_the_status(world, sale):
    conversion, commission = sale
    services.commissions_reverse_for_refund(conversion=conversion, amount=D("100.00"))
    commission.refresh_from_db()
    assert (commission.status, commission.reversed_amount, commission.remaining_amount) == (
        "pending", D("10.00"), D("10.00"))
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("10.00")
    # Approval then moves only what remains.
    services.commission_approve(network=world.a.network, commission=commission)
    assert owed(K.AFFILIATE_APPROVED, world.a.affiliate) == D("10.00")
    assert_ledger_consistent()


def test_refund_signal_reverses_inside_the_refund_transaction(world, sale):
    conversion, commission = sale
    with pytest.raises(RuntimeError), transaction.atomic():
        Conversion.objects.filter(pk=conversion.pk).update(refunded_amount=D("200"))
        conversion_refunded.send(sender=Conversion, conversion=conversion, amount=D("200"))
        commission.refresh_from_db()
        assert commission.status == "reversed"
        raise RuntimeError("the refund fails after the reversal")
    commission.refresh_from_db()
    assert commission.status == "pending" and commission.reversed_amount == 0
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("20.00")
    conversion_refunded.send(sender=Conversion, conversion=conversion, amount=D("200"))
    commission.refresh_from_db()
    assert commission.status == "reversed"


def test_refund_after_payout_leaves_a_negative_balance_the_next_payout_nets(world, sale):
    conversion, commission = sale
    network, affiliate = world.a.network, world.a.affiliate
    services.commission_approve(network=network, commission=commission)
    services.commissions_mark_paid(network=network, commission_ids=[commission.pk])
    ledger.ledger_payout_batched(network=network, affiliate=affiliate, currency="EUR", amount=D("20.00"))
    ledger.ledger_payout_settled(network=network, affiliate=affiliate, currency="EUR", amount=D("20.00"))
    assert owed(K.AFFILIATE_PAID, affiliate) == D("20.00")
    services.commissions_reverse_for_refund(conversion=conversion, amount=D("50.00"))
    commission.refresh_from_db()
    assert commission.status == "paid" and commission.reversed_amount == D("5.00")
    assert owed(K.AFFILIATE_APPROVED, affiliate) == D("-5.00")
    _, [next_one] = convert(world.a, commission.conversion.link, "o-2", "100.00")
    services.commission_approve(network=network, commission=next_one)
    assert owed(K.AFFILIATE_APPROVED, affiliate) == D("5.00")  # 10.00 earned - 5.00 clawed back
    assert_ledger_consistent()


def test_a_failed_payout_returns_the_money_to_approved(world, sale):
    _, commission = sale
    network, affiliate = world.a.network, world.a.affiliate
    services.commission_approve(network=network, commission=commission)
    services.commissions_mark_paid(network=network, commission_ids=[commission.pk])
    ledger.ledger_payout_batched(network=network, affiliate=affiliate, currency="EUR", amount=D("20.00"))
    assert owed(K.PAYOUTS_CLEARING, affiliate) == D("20.00")
    ledger.ledger_payout_failed(network=network, affiliate=affiliate, currency="EUR", amount=D("20.00"))
    services.commission_mark_unpaid(network=network, commission=commission)
    commission.refresh_from_db()
    assert commission.status == "approved" and owed(K.AFFILIATE_APPROVED, affiliate) == D("20.00")
    assert owed(K.PAYOUTS_CLEARING, affiliate) == 0


def test_mark_paid_is_all_or_nothing(world, sale):
    _, commission = sale
    with pytest.raises(services.TransitionError, match="is pending"):
        services.commissions_mark_paid(network=world.a.network, commission_ids=[commission.pk])
    commission.refresh_from_db()
    assert commission.status == "pending"


def test_second_tier_is_reversed_and_rejected_with_its_parent(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, _ = program_with_link(world.a, second_tier_percent=D("50"))
    link = make_link(make_partnership(program, referred))
    conversion, [first, second] = convert(world.a, link, "o-1", "100.00")
    services.commissions_reverse_for_refund(conversion=conversion, amount=D("100.00"))
    second.refresh_from_db()
    assert second.status == "reversed" and second.reversed_amount == D("5.00")
    _, [first2, second2] = convert(world.a, link, "o-2", "100.00")
    services.commission_reject(network=world.a.network, commission=first2)
    second2.refresh_from_db()
    assert second2.status == "rejected"
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == 0
    assert_ledger_consistent()


def test_every_transition_notifies_postback_webhooks_and_email(world, django_capture_on_commit_callbacks):
    _, link = program_with_link(world.a)
    with mock.patch("commissions.notifications.events_emit") as emit, \
            django_capture_on_commit_callbacks(execute=True):
        conversion, [commission] = convert(world.a, link, "o-1", "80.00", click_id="01J0CLICK", sub2="s2")
        services.commission_approve(network=world.a.network, commission=commission)
        services.commissions_reverse_for_refund(conversion=conversion, amount=D("80.00"))
    assert {c.kwargs["network_id"] for c in emit.call_args_list} == {world.a.network.pk}
    emitted = [vars(event) for c in emit.call_args_list for event in c.kwargs["events"]]
    assert [e["event"] for e in emitted] == ["commission.created", "commission.approved", "commission.reversed"]
    created = emitted[0]
    assert created["affiliate_id"] == world.a.affiliate.pk and created["advertiser_id"] == world.a.advertiser.pk
    assert created["macros"] | {} == {
        "status": "pending", "payout": "8.00", "currency": "EUR", "program_id": str(link.program_id),
        "order_id": "o-1", "click_id": "01J0CLICK", "amount": "80.00",
        "sub1": "", "sub2": "s2", "sub3": "", "sub4": "", "sub5": "",
    }
    assert emitted[1]["macros"]["status"] == "approved"
    assert emitted[2]["macros"]["status"] == "reversed"
    assert created["data"]["amount"] == created["data"]["revenue"] == "8.00" and created["data"]["order_id"] == "o-1"
    assert [m.to for m in mail.outbox] == [[world.a.affiliate.email]] * 3
    assert "approved" in mail.outbox[1].subject.lower() and "€8.00" in mail.outbox[1].subject


def test_no_email_when_the_transition_rolls_back(world, sale, django_capture_on_commit_callbacks):
    _, commission = sale
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.commission_approve(network=world.a.network, commission=commission)
        raise RuntimeError
    assert mail.outbox == []


def test_recorded_signal_computes_commissions_through_the_task(world, django_capture_on_commit_callbacks):
    from tests.factories import make_conversion

    _, link = program_with_link(world.a)
    conversion = make_conversion(world.a.advertiser, order_id="o-1", amount=D("10"), link=link)
    with django_capture_on_commit_callbacks(execute=True):
        conversion_recorded.send(sender=Conversion, conversion_id=conversion.pk)
        conversion_recorded.send(sender=Conversion, conversion_id=conversion.pk)  # a duplicate delivery
    assert Commission.objects.filter(conversion=conversion).count() == 1
    assert commission_compute_task(conversion.pk) == [Commission.objects.get().pk]


def test_a_refund_before_the_commission_existed_is_applied_when_it_is_computed(world):
    _, link = program_with_link(world.a)
    conversion, [commission] = convert(world.a, link, "o-1", "100.00", refunded_amount=D("40.00"))
    assert commission.reversed_amount == D("4.00") and commission.status == "pending"
    assert owed(K.AFFILIATE_PENDING, world.a.affiliate) == D("6.00")
    assert_ledger_consistent()


def test_beat_schedules_the_hold_period_and_cpc_tasks():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscovers every app's tasks
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"commissions.tasks.commissions_approve_due_task", "commissions.tasks.cpc_accrue_task"} <= tasks
    assert tasks <= set(app.tasks)


def test_payouts_read_what_is_due_and_which_commissions_make_it(world, sale):
    from commissions.selectors import payable_commissions

    _, commission = sale
    services.commission_approve(network=world.a.network, commission=commission)
    due = ledger.affiliate_approved_due(network=world.a.network, affiliate=world.a.affiliate, currency="EUR")
    payable = payable_commissions(network=world.a.network, affiliate=world.a.affiliate, currency="EUR")
    assert due == D("20.00") == sum(c.remaining_amount for c in payable)


def test_recompute_command_fills_in_missing_commissions_once(world):
    from django.core.management import call_command

    from tests.factories import make_conversion

    _, link = program_with_link(world.a)
    make_conversion(world.a.advertiser, order_id="lost-1", amount=D("30"), link=link)
    call_command("recompute_commissions", stdout=(out := __import__("io").StringIO()))
    call_command("recompute_commissions", stdout=out)
    assert Commission.objects.get().amount == D("3.00")
    assert out.getvalue().splitlines() == ["1 commissions written.", "0 commissions written."]


def test_webhook_body_keeps_the_margin_private(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("12")}])
    with mock.patch("commissions.notifications.events_emit") as emit:
        convert(world.a, link, "o-1", "100.00")
    [call] = [vars(event) for event in emit.call_args.kwargs["events"]]
    assert call["data"]["revenue"] == "12.00" and "amount" not in call["data"]
    assert call["macros"]["payout"] == "10.00"  # the affiliate's own postback shows its payout
