"""Once a tracking domain is verified, the network's links, creatives and snippets are built on it, and `/c/` on it
answers only for that network's links (an advertiser's domain: that advertiser's programs). Without a public
tracking URL, links follow the address the request came to."""

import pytest
from django.utils import timezone

from network import hosts
from network.models import TrackingDomain, VerifiedDomain
from programs.models import TrackingLink
from programs.services import creative_create
from tests.factories import make_advertiser, make_link, make_partnership, make_program
from tests.tracking.clicks_support import direct_clicks, visit  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _domain(network, domain, *, advertiser=None, verified=True):
    row = TrackingDomain.objects.create(network=network, advertiser=advertiser, domain=domain,
                                        verified_at=timezone.now() if verified else None)
    if verified:  # as network.domains does when it verifies one: the host -> network row the redirect reads first
        VerifiedDomain.objects.create(domain=domain, network=network)
    hosts.forget(network_id=network.pk, domain=domain)
    return row


@pytest.fixture
def links(world):
    """A link in each network, and one of a second advertiser of network a."""
    a_link = make_link(make_partnership(make_program(world.a.advertiser, landing_url="https://a-shop.example/"),
                                       world.a.affiliate))
    b_link = make_link(make_partnership(make_program(world.b.advertiser, landing_url="https://b-shop.example/"),
                                        world.b.affiliate))
    rival, _ = make_advertiser(world.a.network, "Rival Shop", "rival@alpha.test")
    rival_link = make_link(make_partnership(make_program(rival, name="Rival", landing_url="https://rival.example/"),
                                            world.a.affiliate))
    return a_link, b_link, rival_link


def _url(tenant, link):
    response = tenant.client("affiliate").get(f"/api/v1/links/{link.pk}")
    assert response.status_code == 200, response.content
    return response.json()["url"]


def test_links_use_the_networks_verified_domain(world, links, settings):
    settings.TRACKING_BASE_URL = "https://trk.platform.test"
    a_link, b_link, rival_link = links
    _domain(world.a.network, "trk.pending-alpha.example", verified=False)
    assert _url(world.a, a_link) == f"https://trk.platform.test/c/{a_link.code}"  # unverified: not used
    _domain(world.a.network, "go.alpha.example")
    assert _url(world.a, a_link) == f"https://go.alpha.example/c/{a_link.code}"
    assert _url(world.a, rival_link) == f"https://go.alpha.example/c/{rival_link.code}"
    assert _url(world.b, b_link) == f"https://trk.platform.test/c/{b_link.code}"  # network b has none
    listed = world.a.client("affiliate").get("/api/v1/links").json()["results"]
    assert {row["url"] for row in listed} == {f"https://go.alpha.example/c/{a_link.code}",
                                              f"https://go.alpha.example/c/{rival_link.code}"}


def test_an_advertisers_domain_is_used_for_its_programs_only(world, links, settings):
    settings.TRACKING_BASE_URL = "https://trk.platform.test"
    a_link, _, rival_link = links
    _domain(world.a.network, "go.alpha.example")
    _domain(world.a.network, "trk.alpha-shop.example", advertiser=world.a.advertiser)
    assert _url(world.a, a_link) == f"https://trk.alpha-shop.example/c/{a_link.code}"
    assert _url(world.a, rival_link) == f"https://go.alpha.example/c/{rival_link.code}"


def test_creatives_and_the_snippet_use_the_domain(world, links, web):
    a_link, _, _ = links
    _domain(world.a.network, "go.alpha.example")
    program = a_link.program
    creative_create(network=world.a.network, program=program, actor=None, kind="html", name="Spring",
                    body='<a href="{tracking_url}">Shop</a>', image=None)
    rows = world.a.client("affiliate").get(f"/api/v1/creatives?program={program.pk}").json()["results"]
    plain = TrackingLink.objects.filter(partnership=a_link.partnership).exclude(pk=a_link.pk).first() or a_link
    assert rows[0]["rendered"] == f'<a href="https://go.alpha.example/c/{plain.code}">Shop</a>'
    preview = world.a.client("advertiser").get(f"/api/v1/creatives?program={program.pk}").json()["results"]
    assert preview[0]["tracking_url"] == "https://go.alpha.example/c/preview"

    page = web("a", "advertiser").get("/advertiser/integration/").content.decode()
    assert 'src="https://go.alpha.example/static/js/track.js"' in page
    assert "https://go.alpha.example/api/v1/conversions/pixel?token=" in page
    token = world.a.client("advertiser").get("/api/v1/conversions/pixel-token").json()
    assert token["pixel_url"].startswith("https://go.alpha.example/api/v1/conversions/pixel?token=")

    links_page = web("a", "affiliate").get("/partner/links/").content.decode()
    assert f'data-copy="https://go.alpha.example/c/{a_link.code}"' in links_page


def test_a_click_on_a_networks_domain_resolves_only_its_links(world, links, direct_clicks):  # noqa: F811
    a_link, b_link, rival_link = links
    _domain(world.a.network, "go.alpha.example")
    _domain(world.b.network, "go.bravo.example")
    on_a = visit(f"/c/{a_link.code}", HTTP_HOST="go.alpha.example")
    assert on_a.status == 302 and on_a.location.startswith("https://a-shop.example/?click_id=")
    assert visit(f"/c/{b_link.code}", HTTP_HOST="go.alpha.example").status == 404
    assert visit(f"/c/{a_link.code}", HTTP_HOST="GO.Bravo.example:443").status == 404
    assert visit(f"/c/{b_link.code}", HTTP_HOST="go.bravo.example").status == 302
    # The platform's own host answers for every network.
    assert visit(f"/c/{a_link.code}", HTTP_HOST="testserver").status == 302
    assert visit(f"/c/{b_link.code}", HTTP_HOST="testserver").status == 302
    assert visit(f"/c/{rival_link.code}", HTTP_HOST="go.alpha.example").status == 302


def test_a_click_on_an_advertisers_domain_resolves_only_its_programs(world, links, direct_clicks):  # noqa: F811
    a_link, b_link, rival_link = links
    _domain(world.a.network, "trk.alpha-shop.example", advertiser=world.a.advertiser)
    assert visit(f"/c/{a_link.code}", HTTP_HOST="trk.alpha-shop.example").status == 302
    assert visit(f"/c/{rival_link.code}", HTTP_HOST="trk.alpha-shop.example").status == 404
    assert visit(f"/c/{b_link.code}", HTTP_HOST="trk.alpha-shop.example").status == 404


def test_the_click_through_djangos_url_map_is_restricted_too(world, links, client):
    a_link, b_link, _ = links
    _domain(world.a.network, "go.alpha.example")
    assert client.get(f"/c/{b_link.code}", HTTP_HOST="go.alpha.example").status_code == 404
    assert client.get(f"/c/{a_link.code}", HTTP_HOST="go.alpha.example").status_code == 302


def test_without_a_public_url_links_follow_the_address_the_request_came_to(world, links, settings):
    settings.TRACKING_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    a_link, _, _ = links
    response = world.a.client("affiliate").get(f"/api/v1/links/{a_link.pk}", HTTP_HOST="127.0.0.1:8123")
    assert response.json()["url"] == f"http://127.0.0.1:8123/c/{a_link.code}"
    assert _url(world.a, a_link) == f"http://testserver/c/{a_link.code}"


def test_without_a_request_links_use_site_url(world, links, settings):
    from programs.selectors import link_url

    settings.TRACKING_BASE_URL = ""
    settings.SITE_URL = "http://127.0.0.1:8123"
    a_link, _, _ = links
    assert link_url(a_link) == f"http://127.0.0.1:8123/c/{a_link.code}"


@pytest.mark.parametrize(("bind", "url"), [
    ("127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    ("[::]:9000", "http://127.0.0.1:9000"),
    ("192.0.2.4:8123", "http://192.0.2.4:8123"),
    ("localhost", "http://localhost"),
])
def test_site_url_follows_bind_when_no_public_url_is_set(bind, url):
    from config.settings import _bind_url

    assert _bind_url(bind) == url


def test_me_says_whether_advertisers_may_add_tracking_domains(world):
    assert world.a.client("advertiser").get("/api/v1/me").json()["network"]["advertiser_tracking_domains"] is False


def test_a_page_opened_on_a_tracking_domain_builds_other_networks_links_on_the_platform(world, links, settings):
    settings.TRACKING_BASE_URL = ""
    settings.SITE_URL = "http://app.platform.test"
    _, b_link, _ = links
    _domain(world.a.network, "go.alpha.example")
    response = world.b.client("affiliate").get(f"/api/v1/links/{b_link.pk}", HTTP_HOST="go.alpha.example")
    assert response.json()["url"] == f"http://app.platform.test/c/{b_link.code}"
