"""PostgreSQL, 50 threads with their own connections posting conversions at once through the API: a cap and a
budget are never overshot, and each alert is sent once (the counter rows are locked while a commission is
decided)."""

import json
from decimal import Decimal

import pytest

from commissions.models import Commission
from programs.models import CapCounter, Program
from tests.commissions.helpers import assert_ledger_consistent
from tests.conftest import api_client
from tests.factories import make_link, make_partnership, make_program
from tests.hardening.test_concurrency_money import in_threads
from tests.tracking.conversions_support import click_at
from tracking.models import Delivery, WebhookEndpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 50


def _post_all(tenant, links, prefix):
    clicks = [click_at(links[n % len(links)]).click_id for n in range(THREADS)]

    def post(n):
        client = api_client(tenant.advertiser_key)
        return client.post("/api/v1/conversions", {"order_id": f"{prefix}-{n}", "amount": "40.00", "currency": "EUR",
                                                   "click_id": clicks[n]}, format="json").status_code

    results, errors = in_threads([lambda n=n: post(n) for n in range(THREADS)])
    assert errors == [] and set(results) == {201}


def test_fifty_concurrent_postbacks_never_overshoot_a_cap(world, monkeypatch):
    monkeypatch.setattr("tracking.outbound._queue", lambda ids, networks: None)  # deliveries written, not sent
    tenant = world.a
    WebhookEndpoint.objects.create(network=tenant.network, advertiser=tenant.advertiser, url="https://shop.test/in",
                                   events=["program.cap_reached"])
    program = make_program(tenant.advertiser, rules=[{"event": "sale", "kind": "fixed", "payout": Decimal("5")}],
                           fraud_policy=Program.FraudPolicy.RECORD,
                           caps={"conversions_day": 10, "conversions_month": None, "payout_month": None,
                                 "action": "reject"})
    links = [make_link(make_partnership(program, tenant.affiliate)), make_link(make_partnership(program,
                                                                                                 tenant.affiliate2))]
    _post_all(tenant, links, "CAP")
    statuses = list(Commission.objects.filter(program=program, tier=1).values_list("status", flat=True))
    assert len(statuses) == THREADS
    assert statuses.count(Commission.Status.PENDING) == 10
    assert statuses.count(Commission.Status.REJECTED) == THREADS - 10
    assert CapCounter.objects.get(program=program, period="day").conversions == 10
    levels = sorted(json.loads(d.body)["data"]["level"] for d in Delivery.objects.filter(event="program.cap_reached"))
    assert levels == [80, 100]
    assert_ledger_consistent()


def test_fifty_concurrent_postbacks_never_overshoot_a_payout_budget(world):
    tenant = world.a
    program = make_program(tenant.advertiser, rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10")}],
                           fraud_policy=Program.FraudPolicy.RECORD,
                           caps={"conversions_day": None, "conversions_month": None, "payout_month": "62.00",
                                 "action": "hold"})
    link = make_link(make_partnership(program, tenant.affiliate))
    _post_all(tenant, [link], "BUDGET")
    earning = Commission.objects.filter(program=program, tier=1, status=Commission.Status.PENDING)
    assert earning.count() == 15  # 4.00 each: 15 x 4 = 60 <= 62 < 64
    assert sum(c.amount for c in earning) == Decimal("60.00")
    assert Commission.objects.filter(program=program, status=Commission.Status.ON_HOLD).count() == THREADS - 15
    assert CapCounter.objects.get(program=program, period="month").payout == Decimal("60.00")
