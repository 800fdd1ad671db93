"""PostgreSQL: two batches started at once (one refused, no affiliate in both), two runners of one batch (one
transfer per payout), a batch racing approvals (nothing approved is marked paid without its money)."""

import sys
import threading
from decimal import Decimal

import pytest
from django.db import connection

from commissions.models import Account, Commission
from commissions.services import commission_approve
from payouts.batches import BatchRunning, payout_batch_run, payout_batch_start
from payouts.models import Payout, PayoutBatch
from tests.commissions.helpers import assert_ledger_consistent, owed

from .helpers import earn, hold_runs_until_starts_tried, method

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
K = Account.Kind


def _in_threads(targets):
    barrier, errors, results = threading.Barrier(len(targets)), [], []

    def run(target):
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_two_batches_at_once_one_is_refused_and_nobody_is_paid_twice(world, stripe_api, monkeypatch):
    a = world.a
    hold_runs_until_starts_tried(monkeypatch, 2, sys.modules[__name__])
    earn(a, "30.00")
    earn(a, "20.00", affiliate=a.affiliate2)
    method(a.affiliate)
    method(a.affiliate2)

    def start_and_run():
        batch = payout_batch_start(network=a.network)
        return payout_batch_run(batch_id=batch.pk).pk

    results, errors = _in_threads([start_and_run, start_and_run])
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], BatchRunning)
    assert PayoutBatch.objects.count() == 1
    assert sorted(Payout.objects.values_list("affiliate_id", flat=True)) == sorted([a.affiliate.pk,
                                                                                   a.affiliate2.pk])
    assert len(stripe_api.posts()) == 2
    # Run after the first ended: nobody is owed anything, so nobody appears again.
    second = payout_batch_run(batch_id=payout_batch_start(network=a.network).pk)
    assert second.total == 0 and len(stripe_api.posts()) == 2
    assert_ledger_consistent()


def test_two_runners_of_one_batch_transfer_once_per_payout(world, stripe_api):
    a = world.a
    earn(a, "30.00")
    earn(a, "20.00", affiliate=a.affiliate2)
    method(a.affiliate)
    method(a.affiliate2)
    batch = payout_batch_start(network=a.network)
    results, errors = _in_threads([lambda: payout_batch_run(batch_id=batch.pk).status] * 3)
    assert errors == []
    assert Payout.objects.count() == 2 and len(stripe_api.transfers) == 2
    assert len({c.headers["Idempotency-Key"] for c in stripe_api.posts()}) == 2
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == 0 and owed(K.PAYOUTS_CLEARING, a.affiliate) == Decimal("30")
    assert_ledger_consistent()


def test_approvals_racing_a_batch_are_paid_now_or_stay_approved_with_their_money(world, stripe_api):
    a = world.a
    method(a.affiliate)
    earn(a, "10.00")
    pending = [earn(a, "1.00", approve=False) for _ in range(6)]
    batch = payout_batch_start(network=a.network)

    def approve_all():
        for commission in pending:
            commission_approve(network=a.network, commission=commission.pk, operator=True)

    _, errors = _in_threads([approve_all, lambda: payout_batch_run(batch_id=batch.pk)])
    assert errors == []
    payout = Payout.objects.get()
    paid = Commission.objects.filter(status="paid")
    assert sorted(payout.commission_ids) == sorted(paid.values_list("pk", flat=True))
    assert payout.amount == sum(c.amount for c in paid)
    left = Commission.objects.filter(status="approved")
    assert owed(K.AFFILIATE_APPROVED, a.affiliate) == sum((c.amount for c in left), Decimal(0))
    assert_ledger_consistent()
