"""Tracking links: who may create them, deep link checks, sub IDs, code uniqueness under a burst, the 404s."""

import time

import pytest

from network.models import AuditLog
from programs import models as program_models
from programs import services
from programs.models import TrackingLink
from tests.factories import make_advertiser, make_link, make_partnership, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def partnership(world):
    program = make_program(world.a.advertiser, allowed_domains=["*.blog.example.org"])
    return make_partnership(program, world.a.affiliate)


def _create(world, body, role="affiliate"):
    return world.a.client(role).post("/api/v1/links", body, format="json")


def test_affiliate_creates_a_link_with_deep_link_and_sub_ids(world, partnership, settings):
    settings.TRACKING_BASE_URL = "https://trk.example.net"
    response = _create(world, {"program": partnership.program_id, "url": "https://news.blog.example.org/a?b=1",
                               "sub1": "facebook", "sub3": "spring"})
    assert response.status_code == 201, response.content
    body = response.json()
    link = TrackingLink.objects.get(pk=body["id"])
    assert body["url"] == f"https://trk.example.net/c/{link.code}" and body["code"] == link.code
    assert link.destination_url == "https://news.blog.example.org/a?b=1"
    assert (link.sub1, link.sub2, link.sub3) == ("facebook", "", "spring")
    assert (link.partnership, link.affiliate) == (partnership, world.a.affiliate)
    assert link.program_id == partnership.program_id
    assert len(link.code) >= 10 and all(c.isalnum() or c in "-_" for c in link.code)
    assert AuditLog.objects.filter(action="link.created", target_id=str(link.pk)).exists()


def test_a_link_without_deep_link_goes_to_the_landing_page(world, partnership):
    response = _create(world, {"program": partnership.program_id})
    assert response.status_code == 201
    assert response.json()["destination_url"] == ""


@pytest.mark.parametrize("url", [
    "https://evil.test/", "//evil.test", "javascript:alert(1)", "https://shop.example.com@evil.test/",
    "https://blog.example.org.evil.test/", "https://shop.example.com\\@evil.test",
])
def test_a_deep_link_to_a_host_not_allowed_is_400_naming_url(world, partnership, url):
    response = _create(world, {"program": partnership.program_id, "url": url})
    assert response.status_code == 400
    assert "url" in response.json()
    assert not TrackingLink.objects.exists()


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
def test_links_need_an_approved_partnership(world, status):
    program = make_program(world.a.advertiser)
    make_partnership(program, world.a.affiliate, status=status)
    response = _create(world, {"program": program.pk})
    assert response.status_code == 400 and "program" in response.json()
    assert not TrackingLink.objects.exists()


def test_links_into_unknown_unjoined_paused_or_foreign_programs_are_refused(world):
    joined_paused = make_program(world.a.advertiser, status="paused")
    make_partnership(joined_paused, world.a.affiliate)
    not_joined = make_program(world.a.advertiser, name="Not joined")
    foreign = make_program(world.b.advertiser)
    make_partnership(foreign, world.b.affiliate)
    for program_id in (joined_paused.pk, not_joined.pk, foreign.pk, 999_999):
        response = _create(world, {"program": program_id})
        assert response.status_code == 400 and "program" in response.json(), program_id
    assert _create(world, {"program": "x"}).status_code == 400
    assert _create(world, {"program": not_joined.pk, "sub1": "x" * 256}).status_code == 400
    assert not TrackingLink.objects.exists()


def test_link_roles(world, partnership, anon):
    assert anon.post("/api/v1/links", {"program": partnership.program_id}, format="json").status_code == 401
    for role in ("advertiser", "owner", "staff"):
        assert _create(world, {"program": partnership.program_id}, role).status_code == 403
    assert anon.get("/api/v1/links").status_code == 401


def test_link_lists_are_scoped(world, partnership):
    mine = make_link(partnership, sub1="a")
    other_program = make_program(make_advertiser(world.a.network, "Other", "o@alpha.test")[0], name="Other")
    theirs = make_link(make_partnership(other_program, world.a.affiliate2))
    foreign = make_link(make_partnership(make_program(world.b.advertiser), world.b.affiliate))

    def ids(role, query=""):
        response = world.a.client(role).get(f"/api/v1/links{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("affiliate") == {mine.pk}
    assert ids("affiliate2") == {theirs.pk}
    assert ids("advertiser") == {mine.pk}
    assert ids("owner") == {mine.pk, theirs.pk}
    assert ids("owner", "?sub1=a") == {mine.pk}
    assert ids("owner", f"?program={other_program.pk}") == {theirs.pk}
    assert world.a.client("owner").get(f"/api/v1/links/{foreign.pk}").status_code == 404
    assert world.a.client("affiliate").get(f"/api/v1/links/{theirs.pk}").status_code == 404
    assert world.a.client("affiliate").get(f"/api/v1/links/{mine.pk}").json()["url"].endswith(f"/c/{mine.code}")


def test_affiliate_archives_its_link(world, partnership):
    link = make_link(partnership)
    assert world.a.client("advertiser").post(f"/api/v1/links/{link.pk}/archive").status_code == 403
    assert world.b.client("affiliate").post(f"/api/v1/links/{link.pk}/archive").status_code == 404
    assert world.a.client("affiliate2").post(f"/api/v1/links/{link.pk}/archive").status_code == 404
    response = world.a.client("affiliate").post(f"/api/v1/links/{link.pk}/archive")
    assert response.status_code == 200 and response.json()["archived"] is True
    assert world.a.client("affiliate").get("/api/v1/links?archived=false").json()["count"] == 0


def test_a_code_collision_is_retried(world, partnership, monkeypatch):
    existing = make_link(partnership, code="TAKENCODE1")
    codes = iter(["TAKENCODE1", "TAKENCODE1", "FRESHCODE1"])
    monkeypatch.setattr(program_models, "new_link_code", lambda: next(codes))
    link = services.tracking_link_create(network=world.a.network, partnership=partnership)
    assert link.code == "FRESHCODE1" and link.pk != existing.pk
    assert TrackingLink.objects.count() == 2


def test_bulk_creation_avoids_codes_taken_in_the_table_and_in_the_batch(world, partnership, monkeypatch):
    make_link(partnership, code="TAKENCODE1")
    codes = iter(["TAKENCODE1", "SAMECODE01", "SAMECODE01", "NEWCODE001", "NEWCODE002"])
    monkeypatch.setattr(program_models, "new_link_code", lambda: next(codes))
    links = services.tracking_links_create_bulk(network=world.a.network, partnership=partnership,
                                                specs=[{}, {}, {}])
    assert sorted(link.code for link in links) == ["NEWCODE001", "NEWCODE002", "SAMECODE01"]
    assert TrackingLink.objects.count() == 4


def test_bulk_creation_checks_every_deep_link_first(world, partnership):
    with pytest.raises(Exception, match="url"):
        services.tracking_links_create_bulk(network=world.a.network, partnership=partnership,
                                            specs=[{}, {"destination_url": "https://evil.test/"}])
    assert not TrackingLink.objects.exists()


def test_a_burst_of_10000_links_gives_10000_distinct_codes(world, partnership):
    started = time.perf_counter()
    links = services.tracking_links_create_bulk(
        network=world.a.network, partnership=partnership, specs=[{"sub1": str(i)} for i in range(10_000)]
    )
    elapsed = time.perf_counter() - started
    codes = list(TrackingLink.objects.values_list("code", flat=True))
    assert len(links) == len(codes) == len(set(codes)) == 10_000
    assert {link.code for link in links} == set(codes)
    assert elapsed < 15, f"10,000 links took {elapsed:.1f}s"
