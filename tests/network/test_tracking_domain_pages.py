"""The tracking-domain pages: the operator's section of the settings page, the advertiser's own page (only when the
network allows it), adding with errors next to the field, verifying (the resolver patched), deleting, and 404s."""

import pytest

from network.models import Network, TrackingDomain
from tests.dns_support import patch_dns

pytestmark = pytest.mark.django_db

TARGET = "trk.platform.test"


@pytest.fixture(autouse=True)
def dns(settings, monkeypatch):
    settings.TRACKING_CNAME_TARGET = TARGET
    return patch_dns(monkeypatch, TARGET)


def test_operator_adds_verifies_and_deletes_a_domain_on_the_settings_page(world, web, dns):
    page = web("a", "owner").get("/operator/settings/").content.decode()
    assert "Tracking domains" in page and f'<code data-testid="cname-target">{TARGET}</code>' in page
    assert "No tracking domain yet" in page

    added = web("a", "owner").post("/tracking-domains/add", {"domain": "go.alpha.example", "advertiser": ""})
    assert added.status_code == 302 and added["Location"] == "/operator/settings/"
    row = TrackingDomain.objects.get(network=world.a.network)
    assert row.domain == "go.alpha.example" and row.advertiser is None and row.verified_at is None
    page = web("a", "owner").get("/operator/settings/").content.decode()
    assert f"go.alpha.example CNAME {TARGET}" in page and "Not verified" in page and "point its CNAME" in page

    failed = web("a", "owner").post(f"/tracking-domains/{row.pk}/verify", follow=True).content.decode()
    assert "go.alpha.example does not resolve" in failed and "Not verified" in failed
    dns["go.alpha.example"] = (TARGET, frozenset({"192.0.2.10"}))
    verified = web("a", "owner").post(f"/tracking-domains/{row.pk}/verify", follow=True).content.decode()
    assert "is verified" in verified and 'status-active">Verified' in verified
    row.refresh_from_db()
    assert row.verified_at is not None

    deleted = web("a", "owner").post(f"/tracking-domains/{row.pk}/delete")
    assert deleted.status_code == 302 and not TrackingDomain.objects.exists()


def test_operator_adds_a_domain_for_an_advertiser(world, web):
    response = web("a", "staff").post("/tracking-domains/add", {"domain": "trk.shop.example",
                                                                "advertiser": world.a.advertiser.pk})
    assert response.status_code == 302
    assert TrackingDomain.objects.get().advertiser == world.a.advertiser
    page = web("a", "owner").get("/operator/settings/").content.decode()
    assert "trk.shop.example" in page and world.a.advertiser.name in page
    # Another network's advertiser is not a choice.
    foreign = web("a", "owner").post("/tracking-domains/add",
                                     {"domain": "x.example", "advertiser": world.b.advertiser.pk})
    assert foreign.status_code == 400 and "Select a valid choice" in foreign.content.decode()


@pytest.mark.parametrize(("domain", "message"), [
    ("203.0.113.5", "An IP address cannot be a tracking domain"),
    ("https://go.alpha.example/path", "Give the host name only"),
    ("org", "A top-level domain alone"),
])
def test_a_bad_domain_is_shown_next_to_the_field_and_nothing_is_added(world, web, domain, message):
    response = web("a", "owner").post("/tracking-domains/add", {"domain": domain})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Network settings" in page  # the settings page, with its own form intact
    assert not TrackingDomain.objects.exists()


def test_another_networks_domain_answers_404_on_the_pages(world, web):
    foreign = TrackingDomain.objects.create(network=world.b.network, domain="go.bravo.example")
    assert web("a", "owner").post(f"/tracking-domains/{foreign.pk}/verify").status_code == 404
    assert web("a", "owner").post(f"/tracking-domains/{foreign.pk}/delete").status_code == 404
    assert TrackingDomain.objects.filter(pk=foreign.pk).exists()
    assert "go.bravo.example" not in web("a", "owner").get("/operator/settings/").content.decode()


def test_the_network_setting_lets_advertisers_add_their_own(world, web):
    page = web("a", "advertiser").get("/advertiser/tracking-domains/").content.decode()
    assert "does not let advertisers add tracking domains" in page and 'data-testid="add-domain"' not in page
    assert web("a", "advertiser").post("/tracking-domains/add", {"domain": "trk.shop.example"}).status_code == 403
    integration = web("a", "advertiser").get("/advertiser/integration/").content.decode()
    assert 'data-testid="tracking-domains-link"' not in integration

    from tests.network.test_operator_pages import settings_data

    saved = web("a", "owner").post("/operator/settings/", settings_data(advertiser_tracking_domains="on"))
    assert saved.status_code == 302 and Network.objects.get(pk=world.a.network.pk).advertiser_tracking_domains
    integration = web("a", "advertiser").get("/advertiser/integration/").content.decode()
    assert 'data-testid="tracking-domains-link"' in integration
    added = web("a", "advertiser").post("/tracking-domains/add", {"domain": "trk.shop.example",
                                                                  "advertiser": ""})
    assert added.status_code == 302 and added["Location"] == "/advertiser/tracking-domains/"
    assert TrackingDomain.objects.get().advertiser == world.a.advertiser
    page = web("a", "advertiser").get("/advertiser/tracking-domains/").content.decode()
    assert "trk.shop.example" in page and 'data-testid="add-domain"' in page
    bad = web("a", "advertiser").post("/tracking-domains/add", {"domain": "trk.shop.example:8080"})
    assert bad.status_code == 400 and "without a port" in bad.content.decode()


def test_an_advertiser_sees_and_touches_only_its_own_domains(world, web):
    Network.objects.filter(pk=world.a.network.pk).update(advertiser_tracking_domains=True)
    network_wide = TrackingDomain.objects.create(network=world.a.network, domain="go.alpha.example")
    page = web("a", "advertiser").get("/advertiser/tracking-domains/").content.decode()
    assert "go.alpha.example" not in page
    assert web("a", "advertiser").post(f"/tracking-domains/{network_wide.pk}/delete").status_code == 404
    assert TrackingDomain.objects.filter(pk=network_wide.pk).exists()
    assert web("a", "affiliate").get("/advertiser/tracking-domains/").status_code == 403
    assert web("a", "affiliate").post("/tracking-domains/add", {"domain": "x.example"}).status_code == 403
