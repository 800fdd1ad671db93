"""`commission.adjusted`: the tier true-up tells the advertiser's and operators' webhooks what it changed, in the
commission's own network only."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from commissions import services
from commissions.models import Commission
from commissions.trueup import tier_trueups_run
from tracking.models import Delivery, WebhookEndpoint

from .helpers import convert, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
OCTOBER = datetime(2026, 10, 5, 12, tzinfo=UTC)
AFTER_OCTOBER = datetime(2026, 11, 1, 6, tzinfo=UTC)
RULE = {"event": "sale", "kind": "percent", "payout": D("8"), "tier_period": "month",
        "tiers": [{"min_conversions": 3, "payout": "10"}]}


def _october(tenant, link, n):
    return [convert(tenant, link, f"{tenant.network.slug}-oct-{i}", "100",
                    created_at=OCTOBER + timedelta(hours=i))[1][0] for i in range(n)]


def _endpoints(tenant):
    return (WebhookEndpoint.objects.create(network=tenant.network, advertiser=tenant.advertiser,
                                           url="https://shop.test/in", events=["commission.adjusted"]),
            WebhookEndpoint.objects.create(network=tenant.network, url="https://ops.test/in", events=["*"]))


def _adjusted(endpoint):
    return [json.loads(d.body) for d in Delivery.objects.filter(endpoint=endpoint, event="commission.adjusted")
            .order_by("pk")]


def test_a_trueup_increase_is_one_commission_adjusted_per_adjustment(world):
    advertiser, operators = _endpoints(world.a)
    b_advertiser, b_operators = _endpoints(world.b)
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)
    _, b_link = program_with_link(world.b, rules=[RULE])
    _october(world.b, b_link, 1)  # b's period reaches no tier: nothing to adjust there
    tier_trueups_run(now=AFTER_OCTOBER)
    adjustments = list(Commission.objects.filter(kind="adjustment").order_by("pk"))
    assert len(adjustments) == 3
    for endpoint in (advertiser, operators):
        bodies = _adjusted(endpoint)
        assert [(b["data"]["id"], b["data"]["adjusts"], b["data"]["adjustment"]) for b in bodies] == [
            (a.pk, c.pk, "increase") for a, c in zip(adjustments, made[:3], strict=True)]
        assert bodies[0]["data"]["change"] == {"amount": "2.00", "revenue": "2.00"}
        assert bodies[0]["data"]["period"] == {"start": "2026-10-01T00:00:00+00:00",
                                               "end": "2026-11-01T00:00:00+00:00"}
    assert _adjusted(b_advertiser) == _adjusted(b_operators) == []
    assert not Delivery.objects.filter(network=world.b.network, event="commission.adjusted").exists()
    assert not Delivery.objects.filter(event="commission.adjusted", kind="postback").exists()


def test_a_trueup_decrease_is_a_commission_adjusted_of_the_reduced_commission(world):
    advertiser, _ = _endpoints(world.a)
    _, link = program_with_link(world.a, rules=[RULE])
    made = _october(world.a, link, 4)
    for commission in made[:2]:
        services.commission_reject(network=world.a.network, commission=commission)
    tier_trueups_run(now=AFTER_OCTOBER)
    [body] = _adjusted(advertiser)
    assert (body["data"]["id"], body["data"]["adjustment"]) == (made[3].pk, "decrease")
    assert body["data"]["change"] == {"amount": "2.00", "revenue": "2.00"}
    assert body["data"]["reversed_amount"] == "2.00"
