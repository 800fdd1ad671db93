"""Tracking domains in a real browser: the operator adds one on the settings page, sees the CNAME target and
verifies it (the resolver patched); an advertiser does the same on its own page. On a phone too, without
sideways scrolling."""

import pytest

from network.models import Network, TrackingDomain
from tests.dns_support import patch_dns

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser

TARGET = "trk.platform.test"


@pytest.fixture
def dns(settings, monkeypatch):
    settings.TRACKING_CNAME_TARGET = TARGET
    return patch_dns(monkeypatch, TARGET)


def _open(browser, live_server, member, width, path):
    with_password(member.user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    page = context.new_page()
    log_in(page, member.user.email)
    page.goto(path)
    return context, page


@pytest.mark.parametrize("width", [1366, 390])
def test_operator_adds_and_verifies_a_tracking_domain(world, browser, live_server, screenshot_dir, dns, width):
    context, page = _open(browser, live_server, world.a.owner, width, "/operator/settings/")
    try:
        section = page.locator("#tracking-domains")
        assert TARGET in section.locator('[data-testid="cname-target"]').inner_text()
        page.fill("#tracking-domains input[name=domain]", "https://go.alpha.example/x")
        page.click('[data-testid="add-domain"] button[type=submit]')
        assert "Give the host name only" in page.locator("#tracking-domains").inner_text()
        page.fill("#tracking-domains input[name=domain]", "a-rather-long-tracking-subdomain.alpha-outdoor-gear.example")
        page.click('[data-testid="add-domain"] button[type=submit]')
        row = page.locator('[data-testid="tracking-domain-row"]')
        assert "Not verified" in row.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"operator-tracking-domains-{width}.png"), full_page=True)

        page.click('[data-testid="verify-domain"]')
        assert "does not resolve" in page.locator("main").inner_text()
        dns["a-rather-long-tracking-subdomain.alpha-outdoor-gear.example"] = (TARGET, frozenset({"192.0.2.10"}))
        page.click('[data-testid="verify-domain"]')
        assert "Verified" in page.locator('[data-testid="tracking-domain-row"]').inner_text()
        assert TrackingDomain.objects.get(network=world.a.network).verified_at is not None
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


@pytest.mark.parametrize("width", [390])
def test_advertiser_adds_its_own_domain_when_the_network_allows(world, browser, live_server, screenshot_dir, dns,
                                                                width):
    Network.objects.filter(pk=world.a.network.pk).update(advertiser_tracking_domains=True)
    context, page = _open(browser, live_server, world.a.advertiser.membership, width, "/advertiser/integration/")
    try:
        page.click('[data-testid="tracking-domains-link"] a')
        page.fill("input[name=domain]", "trk.alpha-shop.example")
        page.click('[data-testid="add-domain"] button[type=submit]')
        assert "trk.alpha-shop.example CNAME trk.platform.test" in page.locator("main").inner_text()
        assert TrackingDomain.objects.get().advertiser == world.a.advertiser
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-tracking-domains-{width}.png"), full_page=True)
    finally:
        context.close()
