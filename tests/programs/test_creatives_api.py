"""Creatives: banner upload through the storage API, image validation, rendering with the affiliate's link."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from network.models import AuditLog
from programs.models import Creative, TrackingLink
from tests.factories import make_advertiser, make_link, make_partnership, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(name="banner.png", size=(300, 250)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _creative(program, **fields):
    return Creative.objects.create(network_id=program.network_id, program=program, **fields)


def test_advertiser_uploads_a_banner(world):
    program = make_program(world.a.advertiser)
    response = world.a.client("advertiser").post(
        "/api/v1/creatives", {"program": program.pk, "kind": "banner", "name": "Spring 300x250", "image": png()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    creative = Creative.objects.get(pk=body["id"])
    assert default_storage.exists(creative.image.name)
    assert (body["width"], body["height"]) == (300, 250) and body["is_active"] is True
    assert body["image"].startswith("http://testserver/media/creatives/")
    assert '<img src="http://testserver/media/creatives/' in body["rendered"]
    assert AuditLog.objects.filter(action="creative.created", target_id=str(creative.pk)).exists()


@pytest.mark.parametrize("upload", [
    SimpleUploadedFile("banner.png", b"<?php echo 'not an image'; ?>", content_type="image/png"),
    SimpleUploadedFile("banner.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", content_type="image/svg+xml"),
    SimpleUploadedFile("empty.png", b"", content_type="image/png"),
])
def test_an_upload_that_is_not_an_image_is_400(world, upload):
    program = make_program(world.a.advertiser)
    response = world.a.client("advertiser").post(
        "/api/v1/creatives", {"program": program.pk, "kind": "banner", "name": "Bad", "image": upload},
        format="multipart",
    )
    assert response.status_code == 400 and "image" in response.json()
    assert not Creative.objects.exists()


def test_a_tiff_is_refused_as_a_banner_format(world):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="TIFF")
    upload = SimpleUploadedFile("banner.tiff", buffer.getvalue(), content_type="image/tiff")
    response = world.a.client("advertiser").post(
        "/api/v1/creatives", {"program": make_program(world.a.advertiser).pk, "kind": "banner", "name": "T",
                              "image": upload}, format="multipart")
    assert response.status_code == 400 and "image" in response.json()


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "banner", "name": "No image"}, "image"),
    ({"kind": "text", "name": "No body"}, "body"),
    ({"kind": "video", "name": "X", "body": "x"}, "kind"),
    ({"kind": "text", "body": "x"}, "name"),
])
def test_invalid_creatives_are_400(world, payload, field):
    program = make_program(world.a.advertiser)
    response = world.a.client("advertiser").post("/api/v1/creatives", {"program": program.pk} | payload,
                                                 format="json")
    assert response.status_code == 400 and field in response.json()


def test_advertisers_only_add_creatives_to_their_own_programs(world, anon):
    other = make_program(make_advertiser(world.a.network, "Other", "o@alpha.test")[0], name="Other")
    foreign = make_program(world.b.advertiser)
    payload = {"kind": "text", "name": "Link", "body": "Shop now"}
    client = world.a.client("advertiser")
    for program in (other, foreign):
        response = client.post("/api/v1/creatives", payload | {"program": program.pk}, format="json")
        assert response.status_code == 400 and "program" in response.json()
    assert anon.post("/api/v1/creatives", payload | {"program": other.pk}, format="json").status_code == 401
    mine = make_program(world.a.advertiser)
    assert world.a.client("affiliate").post("/api/v1/creatives", payload | {"program": mine.pk},
                                            format="json").status_code == 403
    assert not Creative.objects.exists()


def test_affiliates_get_creatives_rendered_with_their_own_link(world, settings):
    settings.TRACKING_BASE_URL = "https://trk.example.net"
    program = make_program(world.a.advertiser)
    partnership = make_partnership(program, world.a.affiliate)
    text = _creative(program, kind="text", name="Text", body="Gear up for spring")
    html = _creative(program, kind="html", name="HTML", body='<a href="{tracking_url}" class="cta">Shop</a>')
    _creative(program, kind="text", name="Retired", body="Old", is_active=False)
    other = make_program(world.a.advertiser, name="Not joined")
    _creative(other, kind="text", name="Elsewhere", body="x")

    response = world.a.client("affiliate").get(f"/api/v1/creatives?program={program.pk}")
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"Text", "HTML"}
    link = TrackingLink.objects.get(partnership=partnership)
    url = f"https://trk.example.net/c/{link.code}"
    assert rows["Text"]["rendered"] == f'<a href="{url}">Gear up for spring</a>'
    assert rows["HTML"]["rendered"] == f'<a href="{url}" class="cta">Shop</a>'
    assert rows["Text"]["tracking_url"] == url
    # The same plain link is reused on the next read.
    world.a.client("affiliate").get("/api/v1/creatives")
    assert TrackingLink.objects.filter(partnership=partnership).count() == 1

    chosen = make_link(partnership, sub1="newsletter")
    rows = world.a.client("affiliate").get(f"/api/v1/creatives?link={chosen.pk}").json()["results"]
    assert {row["tracking_url"] for row in rows} == {f"https://trk.example.net/c/{chosen.code}"}
    assert world.a.client("affiliate").get("/api/v1/creatives?link=999999").status_code == 400
    assert world.a.client("affiliate2").get("/api/v1/creatives").json()["count"] == 0
    assert world.a.client("affiliate2").get(f"/api/v1/creatives/{text.pk}").status_code == 404
    assert world.a.client("advertiser").get(f"/api/v1/creatives/{html.pk}").json()["rendered"].endswith(
        "/c/preview\" class=\"cta\">Shop</a>")


def test_creatives_of_another_network_answer_404(world):
    foreign = _creative(make_program(world.b.advertiser), kind="text", name="B", body="b")
    for role in ("owner", "advertiser", "affiliate"):
        assert world.a.client(role).get(f"/api/v1/creatives/{foreign.pk}").status_code == 404
        assert world.a.client(role).patch(f"/api/v1/creatives/{foreign.pk}", {"name": "x"},
                                          format="json").status_code in (403, 404)


def test_advertiser_deactivates_and_replaces_a_banner(world):
    program = make_program(world.a.advertiser)
    client = world.a.client("advertiser")
    created = client.post("/api/v1/creatives", {"program": program.pk, "kind": "banner", "name": "B", "image": png()},
                          format="multipart").json()
    response = client.patch(f"/api/v1/creatives/{created['id']}", {"image": png("wide.png", (728, 90))},
                            format="multipart")
    assert response.status_code == 200, response.content
    assert (response.json()["width"], response.json()["height"]) == (728, 90) and response.json()["is_active"]
    response = client.patch(f"/api/v1/creatives/{created['id']}", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert world.a.client("affiliate").patch(f"/api/v1/creatives/{created['id']}", {"is_active": True},
                                             format="json").status_code == 403
