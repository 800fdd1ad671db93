"""PostgreSQL, threads with their own connections, through the API: approvals racing refunds keep the ledger
balanced and no commission above what its conversion still allows; 50 duplicate postbacks on the warm fast
path make one conversion; two payout batches started at once pay nobody twice.

(The services-level versions live in tests/commissions, tests/payouts and tests/tracking; these go through
the API and the WSGI application as the merchants' servers and the operators do.)"""

import json
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connections

from commissions.models import Account, Commission
from core.money import quantize
from payouts import api as payouts_api
from payouts.models import MethodKind, Payout, PayoutBatch
from tests.commissions.helpers import assert_ledger_consistent, convert, owed, program_with_link
from tests.conftest import api_client
from tests.payouts.helpers import earn, hold_runs_until_starts_tried, method
from tests.tracking.conversions_support import click_at, make_shop
from tracking.models import Conversion
from tracking.signals import conversion_recorded

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
K = Account.Kind


def in_threads(targets):
    """Run the callables at once (a barrier), each in its own thread and database connection."""
    barrier, results, errors = threading.Barrier(len(targets)), [None] * len(targets), []

    def run(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, t)) for n, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return results, errors


def test_approvals_racing_refunds_keep_the_ledger_balanced(world):
    tenant = world.a
    # A referred affiliate: each sale makes a commission and its second-tier override.
    tenant.affiliate.referred_by = tenant.affiliate2
    tenant.affiliate.save()
    _, link = program_with_link(tenant, second_tier_percent=Decimal("20"),
                                rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10"),
                                        "revenue": Decimal("12")}])
    plans = []  # (conversion, refunds racing the approval)
    for n in range(8):
        conversion, commissions = convert(tenant, link, f"RACE-{n}", "99.99")
        assert len(commissions) == 2
        refunds = [["40.00", "59.99"], ["33.33"], ["99.99"], ["10.00", "20.00", "30.00"]][n % 4]
        plans.append((conversion, commissions[0], refunds))

    def approve(commission_id, role):
        client = api_client(getattr(tenant, f"{role}_key"))
        return client.post(f"/api/v1/commissions/{commission_id}/approve").status_code

    def refund(conversion_id, amount):
        client = api_client(tenant.advertiser_key)
        return client.post(f"/api/v1/conversions/{conversion_id}/refund", {"amount": amount},
                           format="json").status_code

    for conversion, commission, refunds in plans:
        targets = [lambda c=commission: approve(c.pk, "advertiser"), lambda c=commission: approve(c.pk, "owner")]
        targets += [lambda a=amount, v=conversion: refund(v.pk, a) for amount in refunds]
        results, errors = in_threads(targets)
        assert errors == []
        approvals, refund_codes = results[:2], results[2:]
        assert sorted(approvals) in ([200, 400], [400, 400]), approvals  # one wins, or the refund reversed it first
        assert all(code == 200 for code in refund_codes), refund_codes

    assert_ledger_consistent()
    for conversion, _commission, refunds in plans:
        conversion.refresh_from_db()
        assert conversion.refunded_amount == sum(Decimal(a) for a in refunds) <= conversion.amount
        share = (conversion.amount - conversion.refunded_amount) / conversion.amount
        for row in Commission.objects.filter(conversion=conversion):
            kept = row.amount - row.reversed_amount
            # What a commission keeps never exceeds its share of what was not refunded (rounded once).
            assert Decimal(0) <= kept <= quantize(row.amount * share, row.currency) + Decimal("0.01"), row.pk
            assert row.reversed_amount <= row.amount and row.reversed_revenue <= row.revenue
            if conversion.refunded_amount == conversion.amount:
                assert row.status == Commission.Status.REVERSED and kept == 0
            assert row.status in (Commission.Status.APPROVED, Commission.Status.PENDING,
                                  Commission.Status.REVERSED)
        # Parent and override moved together.
        assert len({row.status for row in Commission.objects.filter(conversion=conversion)}) == 1

    # The affiliates' balances are exactly what their live commissions keep.
    for affiliate in (tenant.affiliate, tenant.affiliate2):
        rows = Commission.objects.filter(affiliate=affiliate)
        for status, kind in ((Commission.Status.APPROVED, K.AFFILIATE_APPROVED),
                             (Commission.Status.PENDING, K.AFFILIATE_PENDING)):
            expected = sum((r.amount - r.reversed_amount for r in rows.filter(status=status)), Decimal(0))
            assert owed(kind, affiliate) == expected, (affiliate, status)


def test_concurrent_refunds_never_refund_more_than_the_order(world):
    tenant = world.a
    _, link = program_with_link(tenant)
    conversion, _ = convert(tenant, link, "OVER-1", "100.00")

    def refund(amount):
        return api_client(tenant.advertiser_key).post(f"/api/v1/conversions/{conversion.pk}/refund",
                                                      {"amount": amount}, format="json").status_code

    results, errors = in_threads([lambda: refund("60.00") for _ in range(4)])
    assert errors == []
    assert sorted(results) == [200, 400, 400, 400]
    conversion.refresh_from_db()
    assert conversion.refunded_amount == Decimal("60.00")
    assert_ledger_consistent()


def test_fifty_duplicate_postbacks_on_the_warm_fast_path_make_one_conversion(world):
    from django.core.wsgi import get_wsgi_application

    from tests.tracking.test_conversions_fast import wsgi_call
    from tracking.postback_fast import FastPostbackMiddleware

    shop = make_shop(world.a)
    app = FastPostbackMiddleware(get_wsgi_application())
    key = world.a.advertiser_key
    warm = json.dumps({"order_id": "WARM", "amount": "5.00", "currency": "EUR"}).encode()
    assert wsgi_call(app, "POST", "/api/v1/conversions", warm, key)["status"].startswith("201")  # key marked used
    connections.close_all()
    click_id = click_at(shop.link).click_id
    body = json.dumps({"order_id": "DUP-50", "amount": "49.90", "currency": "EUR", "click_id": click_id}).encode()
    recorded = []

    def receiver(sender, conversion_id, **kwargs):
        recorded.append(conversion_id)

    conversion_recorded.connect(receiver, weak=False)
    try:
        results, errors = in_threads([lambda: wsgi_call(app, "POST", "/api/v1/conversions", body, key)] * 50)
    finally:
        conversion_recorded.disconnect(receiver)
    assert errors == []
    codes = Counter(answer["status"][:3] for answer in results)
    assert codes == {"201": 1, "200": 49}, codes
    ids = {json.loads(answer["body"])["id"] for answer in results}
    conversion = Conversion.objects.get(order_id="DUP-50")
    assert ids == {conversion.pk} and conversion.attribution == "click"
    assert recorded == [conversion.pk]
    assert Commission.objects.filter(conversion=conversion).count() == 1
    assert_ledger_consistent()


def test_two_payout_batches_started_at_once_through_the_api_pay_nobody_twice(world, monkeypatch):
    tenant = world.a
    hold_runs_until_starts_tried(monkeypatch, 2, payouts_api)
    earn(tenant, "30.00")
    earn(tenant, "20.00", affiliate=tenant.affiliate2)
    earn(tenant, "15.00", currency="USD")
    method(tenant.affiliate, MethodKind.PAYPAL)
    method(tenant.affiliate2, MethodKind.BANK)

    def start(role):
        response = api_client(getattr(tenant, f"{role}_key")).post("/api/v1/payout-batches")
        return response.status_code

    results, errors = in_threads([lambda: start("owner"), lambda: start("staff")])
    assert errors == []
    assert sorted(results) == [201, 409]
    assert PayoutBatch.objects.count() == 1
    payouts = list(Payout.objects.values_list("affiliate_id", "currency"))
    assert sorted(payouts) == sorted([(tenant.affiliate.pk, "EUR"), (tenant.affiliate.pk, "USD"),
                                      (tenant.affiliate2.pk, "EUR")])
    # Every approved commission is in exactly one payout.
    in_payouts = [pk for ids in Payout.objects.values_list("commission_ids", flat=True) for pk in ids]
    assert len(in_payouts) == len(set(in_payouts)) == Commission.objects.filter(status="paid").count() == 3
    assert owed(K.AFFILIATE_APPROVED, tenant.affiliate) == 0
    # Both again, once the first ended: nothing is owed, so no payout repeats.
    results, errors = in_threads([lambda: start("owner"), lambda: start("staff")])
    assert errors == [] and 201 in results
    assert Payout.objects.count() == 3
    assert_ledger_consistent()
