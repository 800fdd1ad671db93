"""PostgreSQL, networks verifying the same tracking domain at the same moment, each in its own thread and connection:
exactly one holds it (VerifiedDomain's key decides; the tracking domains' own keys are unique per network only)."""

import pytest

from network import domains
from network.models import TrackingDomain, VerifiedDomain
from tests.conftest import make_tenant
from tests.hardening.test_concurrency_money import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TARGET = "trk.platform.test"
DOMAIN = "trk.contested.example"
NETWORKS = 8


def test_networks_verifying_one_name_at_once_end_with_one_holder(world, settings, monkeypatch):
    settings.TRACKING_CNAME_TARGET = TARGET
    tenants = [world.a, world.b, *(make_tenant(f"net{n}") for n in range(NETWORKS - 2))]
    rows = [t.client("owner").post("/api/v1/tracking-domains", {"domain": DOMAIN}, format="json").json()
            for t in tenants]
    tokens = [row["challenge_token"] for row in rows]
    # Everyone points the name at the target and publishes a token (DNS cannot tell them apart: the first wins).
    monkeypatch.setattr(domains, "resolve", lambda name: (TARGET, frozenset({"192.0.2.10"})))
    monkeypatch.setattr(domains, "txt_records", lambda name: tokens)

    def verify(tenant, row):
        response = tenant.client("owner").post(f"/api/v1/tracking-domains/{row['id']}/verify")
        return response.status_code, response.json()

    results, errors = in_threads([lambda t=t, r=r: verify(t, r) for t, r in zip(tenants, rows, strict=True)])
    assert errors == []
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [400] * (NETWORKS - 1)
    assert all("already in use" in body["detail"][0] for status, body in results if status == 400)
    winner = next(t for t, (status, _body) in zip(tenants, results, strict=True) if status == 200)
    assert TrackingDomain.objects.filter(domain=DOMAIN, verified_at__isnull=False).count() == 1
    assert list(VerifiedDomain.objects.values_list("domain", "network_id")) == [(DOMAIN, winner.network.pk)]
