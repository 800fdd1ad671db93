"""`payout.paid` and `payout.failed` reach the operators' webhooks of the payout's network (never an advertiser's,
never another network's)."""

import json

import pytest

from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import Payout
from payouts.transitions import payout_mark_failed, payout_mark_paid
from tracking.models import Delivery, WebhookEndpoint

from .helpers import earn, method

pytestmark = pytest.mark.django_db


def _endpoints(tenant):
    return (WebhookEndpoint.objects.create(network=tenant.network, url="https://ops.test/in",
                                           events=["payout.paid", "payout.failed"]),
            WebhookEndpoint.objects.create(network=tenant.network, advertiser=tenant.advertiser,
                                           url="https://shop.test/in", events=["*"]))


def _payouts(tenant, affiliates):
    for affiliate in affiliates:
        earn(tenant, "50.00", affiliate=affiliate)
        method(affiliate)
    payout_batch_run(batch_id=payout_batch_start(network=tenant.network).pk)
    return [Payout.objects.get(affiliate=affiliate) for affiliate in affiliates]


def test_payout_paid_and_failed_reach_the_operators_endpoints_of_its_network(world, stripe_api):
    operators, advertiser = _endpoints(world.a)
    _endpoints(world.b)
    paid, failed = _payouts(world.a, [world.a.affiliate, world.a.affiliate2])
    payout_mark_paid(network=world.a.network, payout=paid, source="stripe")
    payout_mark_failed(network=world.a.network, payout=failed, reason="Account closed", source="stripe")
    bodies = {d.event: json.loads(d.body) for d in Delivery.objects.filter(endpoint=operators)}
    assert set(bodies) == {"payout.paid", "payout.failed"}
    assert (bodies["payout.paid"]["data"]["id"], bodies["payout.paid"]["data"]["status"]) == (paid.pk, "paid")
    assert bodies["payout.failed"]["data"]["failure_reason"] == "Account closed"
    assert bodies["payout.paid"]["type"] == "payout.paid"
    assert not Delivery.objects.filter(endpoint=advertiser, event__startswith="payout.").exists()
    assert not Delivery.objects.filter(network=world.b.network).exists()
