"""Branded tracking domains through the API: adding (and the names refused), verifying against DNS (the resolver
patched), deleting, who may do what, another network's domain, and the reverse proxy's on-demand TLS question."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from network import hosts
from network.models import AuditLog, TrackingDomain
from tests import sqlguard
from tests.dns_support import patch_dns

pytestmark = pytest.mark.django_db

TARGET = "trk.platform.test"


@pytest.fixture(autouse=True)
def _target(settings):
    settings.TRACKING_CNAME_TARGET = TARGET


@pytest.fixture
def dns(monkeypatch):
    """The resolver: name -> (canonical name, addresses); a name not in it does not resolve."""
    return patch_dns(monkeypatch, TARGET)


def _add(tenant, domain, role="owner", **extra):
    return tenant.client(role).post("/api/v1/tracking-domains", {"domain": domain, **extra}, format="json")


def _verified(tenant, domain, dns, role="owner", **extra):
    dns[domain] = (TARGET, frozenset({"192.0.2.10"}))
    row = _add(tenant, domain, role, **extra).json()
    response = tenant.client(role).post(f"/api/v1/tracking-domains/{row['id']}/verify")
    assert response.status_code == 200, response.content
    return response.json()


def test_operator_adds_a_domain_and_sees_the_cname_target(world):
    response = _add(world.a, "  Trk.Alpha-Shop.example. ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["domain"] == "trk.alpha-shop.example" and body["cname_target"] == TARGET
    assert body["verified"] is False and body["verified_at"] is None and body["advertiser"] is None
    row = TrackingDomain.objects.get(pk=body["id"])
    assert row.network == world.a.network and row.domain == "trk.alpha-shop.example"
    assert AuditLog.objects.filter(network=world.a.network, action="tracking_domain.added",
                                   target_id=str(row.pk)).exists()
    listed = world.a.client("staff").get("/api/v1/tracking-domains").json()
    assert [r["domain"] for r in listed["results"]] == ["trk.alpha-shop.example"]


def test_an_internationalized_name_is_stored_in_its_ascii_form(world):
    response = _add(world.a, "trk.bücher.example")
    assert response.status_code == 201 and response.json()["domain"] == "trk.xn--bcher-kva.example"


@pytest.mark.parametrize(("domain", "words"), [
    ("203.0.113.5", "IP address"),
    ("[2001:db8::1]", "IP address"),
    ("2001:db8::1", "IP address"),
    ("10.1.2", "IP address"),
    ("https://trk.example.com", "no scheme"),
    ("trk.example.com/c/abc", "no scheme"),
    ("trk.example.com:8443", "without a port"),
    ("com", "top-level domain"),
    ("-bad-.example.com", "Not a valid host name"),
    ("trk_1.example.com", "Not a valid host name"),
    ("a" * 64 + ".example.com", "Not a valid host name"),
    ("", "may not be blank"),
    ("   ", "may not be blank"),
    (TARGET, "platform's own"),
    ("localhost.localdomain.", None),
])
def test_bad_names_are_400_field_errors_and_record_nothing(world, domain, words):
    response = _add(world.a, domain)
    if words is None:  # a well-formed name for contrast: the list above is not refusing everything
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.content
    assert words in response.json()["domain"][0]
    assert not TrackingDomain.objects.exists()


def test_a_configured_host_of_the_platform_is_refused(world, settings):
    settings.ALLOWED_HOSTS = ["testserver", "app.platform.test", ".platform-cdn.test"]
    for name in ("app.platform.test", "x.platform-cdn.test"):
        response = _add(world.a, name)
        assert response.status_code == 400 and "platform's own" in response.json()["domain"][0]


def test_a_domain_twice_in_a_network_or_verified_by_another_is_refused(world, dns):
    assert _add(world.a, "trk.shared.example").status_code == 201
    again = _add(world.a, "TRK.shared.example")
    assert again.status_code == 400 and "already has" in again.json()["domain"][0]
    # Unverified in a: b may add it too (DNS decides who holds it) ...
    assert _add(world.b, "trk.shared.example").status_code == 201
    _verified(world.a, "trk.taken.example", dns)
    # ... but not once someone verified it.
    taken = _add(world.b, "trk.taken.example")
    assert taken.status_code == 400 and "already in use" in taken.json()["domain"][0]
    assert TrackingDomain.objects.filter(network=world.b.network).count() == 1


def test_verify_succeeds_when_the_name_cnames_to_the_target(world, dns):
    row = _add(world.a, "trk.alpha.example").json()
    dns["trk.alpha.example"] = (TARGET, frozenset({"192.0.2.10"}))
    response = world.a.client("owner").post(f"/api/v1/tracking-domains/{row['id']}/verify")
    assert response.status_code == 200, response.content
    assert response.json()["verified"] is True and response.json()["verified_at"]
    assert TrackingDomain.objects.get(pk=row["id"]).verified_at is not None
    assert AuditLog.objects.filter(action="tracking_domain.verified", target_id=str(row["id"])).exists()
    # Again: still verified, no second entry.
    assert world.a.client("owner").post(f"/api/v1/tracking-domains/{row['id']}/verify").status_code == 200
    assert AuditLog.objects.filter(action="tracking_domain.verified").count() == 1


def test_verify_accepts_the_same_addresses_as_the_target_for_an_apex(world, dns):
    row = _add(world.a, "alpha-apex.example").json()
    dns["alpha-apex.example"] = ("alpha-apex.example", frozenset({"192.0.2.10"}))  # ALIAS / CNAME flattening
    response = world.a.client("owner").post(f"/api/v1/tracking-domains/{row['id']}/verify")
    assert response.status_code == 200 and response.json()["verified"] is True


@pytest.mark.parametrize(("record", "words"), [
    (None, "does not resolve"),
    (("elsewhere.example", frozenset({"198.51.100.9"})), "resolves to elsewhere.example, not to trk.platform.test"),
    (("trk.alpha.example", frozenset({"192.0.2.10", "198.51.100.9"})), "resolves to 192.0.2.10, 198.51.100.9"),
])
def test_verify_fails_with_what_dns_says_and_changes_nothing(world, dns, record, words):
    row = _add(world.a, "trk.alpha.example").json()
    if record is not None:
        dns["trk.alpha.example"] = record
    response = world.a.client("owner").post(f"/api/v1/tracking-domains/{row['id']}/verify")
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"][0]
    assert TrackingDomain.objects.get(pk=row["id"]).verified_at is None
    assert not AuditLog.objects.filter(action="tracking_domain.verified").exists()


def test_the_second_network_to_verify_a_name_is_refused(world, dns):
    a_row = _add(world.a, "trk.contested.example").json()
    b_row = _add(world.b, "trk.contested.example").json()
    dns["trk.contested.example"] = (TARGET, frozenset({"192.0.2.10"}))
    assert world.b.client("owner").post(f"/api/v1/tracking-domains/{b_row['id']}/verify").status_code == 200
    late = world.a.client("owner").post(f"/api/v1/tracking-domains/{a_row['id']}/verify")
    assert late.status_code == 400 and "already in use" in late.json()["detail"][0]
    assert TrackingDomain.objects.get(pk=a_row["id"]).verified_at is None


def test_another_networks_domain_answers_404(world, dns):
    b_row = _verified(world.b, "trk.bravo.example", dns)
    client = world.a.client("owner")
    assert client.get(f"/api/v1/tracking-domains/{b_row['id']}").status_code == 404
    assert client.post(f"/api/v1/tracking-domains/{b_row['id']}/verify").status_code == 404
    assert client.delete(f"/api/v1/tracking-domains/{b_row['id']}").status_code == 404
    assert client.get("/api/v1/tracking-domains").json()["results"] == []
    assert TrackingDomain.objects.filter(pk=b_row["id"], verified_at__isnull=False).exists()


def test_delete_removes_the_domain(world, dns):
    row = _verified(world.a, "trk.alpha.example", dns)
    assert world.a.client("owner").delete(f"/api/v1/tracking-domains/{row['id']}").status_code == 204
    assert not TrackingDomain.objects.exists()
    assert AuditLog.objects.filter(action="tracking_domain.deleted", target_id=str(row["id"])).exists()
    assert world.a.client("owner").get(f"/api/v1/tracking-domains/{row['id']}").status_code == 404


def test_affiliates_may_not_touch_tracking_domains(world):
    assert world.a.client("affiliate").get("/api/v1/tracking-domains").status_code == 403
    assert _add(world.a, "trk.affiliate.example", role="affiliate").status_code == 403
    assert not TrackingDomain.objects.exists()


def test_advertisers_add_their_own_only_when_the_network_allows_it(world, dns):
    refused = _add(world.a, "trk.shop.example", role="advertiser")
    assert refused.status_code == 403 and "does not let advertisers" in refused.json()["detail"]
    world.a.network.advertiser_tracking_domains = True
    world.a.network.save()
    network_wide = _add(world.a, "trk.network.example").json()
    # An advertiser cannot name another advertiser: the domain is its own whatever the body says.
    created = _add(world.a, "trk.shop.example", role="advertiser", advertiser=network_wide["id"])
    assert created.status_code == 201 and created.json()["advertiser"] == world.a.advertiser.pk
    mine = world.a.client("advertiser").get("/api/v1/tracking-domains").json()["results"]
    assert [r["domain"] for r in mine] == ["trk.shop.example"]  # not the network's own
    assert world.a.client("advertiser").get(f"/api/v1/tracking-domains/{network_wide['id']}").status_code == 404
    dns["trk.shop.example"] = (TARGET, frozenset({"192.0.2.10"}))
    verified = world.a.client("advertiser").post(f"/api/v1/tracking-domains/{created.json()['id']}/verify")
    assert verified.status_code == 200 and verified.json()["verified"] is True


def test_operator_adds_a_domain_for_one_advertiser_of_its_own_network(world):
    created = _add(world.a, "trk.for-shop.example", advertiser=world.a.advertiser.pk)
    assert created.status_code == 201 and created.json()["advertiser"] == world.a.advertiser.pk
    other = _add(world.a, "trk.foreign.example", advertiser=world.b.advertiser.pk)
    assert other.status_code == 400 and other.json()["advertiser"] == ["Unknown advertiser."]
    assert not TrackingDomain.objects.filter(domain="trk.foreign.example").exists()


# --- the reverse proxy's question, and the host check ---------------------------------------------------
def test_tls_ask_answers_200_for_a_verified_domain_only(world, dns, client):
    _verified(world.a, "trk.alpha.example", dns)
    _add(world.a, "trk.pending.example")
    assert client.get("/tls/ask", {"domain": "trk.alpha.example"}).status_code == 200
    assert client.get("/tls/ask", {"domain": "TRK.Alpha.Example"}).status_code == 200
    for name in ("trk.pending.example", "unknown.example", "", TARGET, "x" * 400):
        assert client.get("/tls/ask", {"domain": name}).status_code == 404, name
    assert client.get("/tls/ask").status_code == 404
    assert client.post("/tls/ask", {"domain": "trk.alpha.example"}).status_code == 405


def test_tls_ask_follows_verification_and_deletion_at_once(world, dns, client):
    row = _add(world.a, "trk.alpha.example").json()
    assert client.get("/tls/ask", {"domain": "trk.alpha.example"}).status_code == 404  # cached as nobody's
    dns["trk.alpha.example"] = (TARGET, frozenset({"192.0.2.10"}))
    world.a.client("owner").post(f"/api/v1/tracking-domains/{row['id']}/verify")
    assert client.get("/tls/ask", {"domain": "trk.alpha.example"}).status_code == 200
    world.a.client("owner").delete(f"/api/v1/tracking-domains/{row['id']}")
    assert client.get("/tls/ask", {"domain": "trk.alpha.example"}).status_code == 404


def test_a_cold_host_lookup_reads_the_verified_domain_first_then_only_its_network(world, dns, client):
    """The host -> network row (network_verifieddomain, a reference table under Citus) comes first; the tracking
    domain is then read on that network alone, though another network has added the same name (unverified)."""
    _add(world.b, "trk.alpha.example")
    _verified(world.a, "trk.alpha.example", dns)
    hosts.clear_local_cache()
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/tls/ask", {"domain": "trk.alpha.example"}).status_code == 200
        assert hosts.domain_owner("trk.alpha.example") == {"network_id": world.a.network.pk, "advertiser_id": None}
    statements = [q["sql"] for q in queries.captured_queries]
    domain_reads = [i for i, sql in enumerate(statements) if "network_trackingdomain" in sql]
    lookups = [i for i, sql in enumerate(statements) if "network_verifieddomain" in sql]
    assert len(domain_reads) == 1 and len(lookups) == 1 and lookups[0] < domain_reads[0], statements
    assert sqlguard.unrouted_tables(statements[domain_reads[0]], frozenset({"network_trackingdomain"})) == ()
    # The cross-network read it replaces is what the guard refuses.
    assert sqlguard.unrouted_tables('SELECT "network_trackingdomain"."network_id" FROM "network_trackingdomain" '
                                    'WHERE ("network_trackingdomain"."domain" = %s AND '
                                    '"network_trackingdomain"."verified_at" IS NOT NULL)',
                                    frozenset({"network_trackingdomain"})) == ("network_trackingdomain",)
    assert not any(rule.code.startswith("network.hosts") for rule in sqlguard.EXCEPTIONS)


def test_a_verified_domain_passes_the_host_check_and_others_do_not(world, dns, client, settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver", "app.platform.test"]
    _verified(world.a, "trk.alpha.example", dns)
    _add(world.a, "trk.pending.example")
    assert client.get("/healthz", HTTP_HOST="trk.alpha.example").status_code == 200
    assert client.get("/healthz", HTTP_HOST="trk.alpha.example:443").status_code == 200
    assert client.get("/healthz", HTTP_HOST="app.platform.test").status_code == 200
    assert client.get("/healthz", HTTP_HOST="trk.pending.example").status_code == 400
    assert client.get("/healthz", HTTP_HOST="evil.example").status_code == 400
