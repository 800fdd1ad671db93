"""Partner portal program pages: marketplace (search, apply), my programs, link builder, creatives."""

import pytest
from django.test import Client

from programs.models import Creative, Partnership, TrackingLink
from programs.services import tracking_link_default
from tests.factories import make_coupon, make_link, make_partnership, make_program
from tests.pages import web_client

PAGES = ["/partner/marketplace/", "/partner/programs/", "/partner/links/", "/partner/creatives/"]


@pytest.mark.parametrize("url", PAGES)
def test_program_pages_answer_the_affiliate_only(web, url):
    assert web("a", "affiliate").get(url).status_code == 200
    assert web("a", "advertiser").get(url).status_code == 403
    assert web("a", "owner").get(url).status_code == 403
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_program_pages_say_what_to_do_when_empty(web, url):
    page = web("a", "affiliate").get(url).content.decode()
    assert "marketplace" in page.lower() and 'class="empty"' in page


def test_marketplace_lists_active_public_programs_with_their_payout_and_searches(world, web):
    make_program(world.a.advertiser, name="Outdoor Gear", description="tents and boots",
                 rules=[{"event": "sale", "kind": "percent", "payout": "8",
                         "tiers": [{"min_conversions": 10, "payout": "12"}]}])
    make_program(world.a.advertiser, name="Newsletter", rules=[{"event": "lead", "kind": "fixed", "payout": "2.5"}])
    make_program(world.a.advertiser, name="Secret Deals", visibility="invite")
    make_program(world.a.advertiser, name="Old Offer", status="paused")
    make_program(world.b.advertiser, name="Bravo Program")
    page = web("a", "affiliate").get("/partner/marketplace/").content.decode()
    assert "Outdoor Gear" in page and "8 % per sale (up to 12 % with tiers)" in page
    assert "€2.50 per lead" in page
    assert "Secret Deals" not in page and "Old Offer" not in page and "Bravo Program" not in page
    found = web("a", "affiliate").get("/partner/marketplace/?q=boots").content.decode()
    assert "Outdoor Gear" in found and "Newsletter" not in found


def test_applying_to_a_manual_program_is_pending_and_auto_is_approved(world, web):
    manual = make_program(world.a.advertiser, name="Manual", approval="manual")
    auto = make_program(world.a.advertiser, name="Auto", approval="auto")
    client = web("a", "affiliate")
    response = client.post(f"/partner/marketplace/{manual.pk}/apply", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Applied \xc2\xb7 pending" in response.content
    response = client.post(f"/partner/marketplace/{auto.pk}/apply", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Build a link" in response.content
    statuses = dict(Partnership.objects.filter(affiliate=world.a.affiliate).values_list("program__name", "status"))
    assert statuses == {"Manual": "pending", "Auto": "approved"}
    page = client.get("/partner/marketplace/").content.decode()
    assert "Applied · pending" in page and "Approved" in page


def test_reapplying_after_a_rejection_is_refused_with_a_clear_message(world, web):
    program = make_program(world.a.advertiser)
    make_partnership(program, world.a.affiliate, status="rejected")
    response = web("a", "affiliate").post(f"/partner/marketplace/{program.pk}/apply", HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert b"was rejected; you cannot apply again" in response.content
    assert Partnership.objects.get(program=program, affiliate=world.a.affiliate).status == "rejected"
    response = web("a", "affiliate").post(f"/partner/marketplace/{program.pk}/apply", follow=True)
    assert b"was rejected; you cannot apply again" in response.content


def test_applying_to_another_networks_or_an_invite_only_program(world, web):
    foreign = make_program(world.b.advertiser)
    assert web("a", "affiliate").post(f"/partner/marketplace/{foreign.pk}/apply").status_code == 404
    assert web("a", "advertiser").post(f"/partner/marketplace/{foreign.pk}/apply").status_code == 403
    hidden = make_program(world.a.advertiser, visibility="invite")
    assert web("a", "affiliate").post(f"/partner/marketplace/{hidden.pk}/apply").status_code == 404
    assert not Partnership.objects.exists()


def test_apply_enforces_csrf(world):
    program = make_program(world.a.advertiser, approval="auto")
    client = web_client(world.a.affiliate, enforce_csrf_checks=True)
    assert client.post(f"/partner/marketplace/{program.pk}/apply").status_code == 403
    assert not Partnership.objects.exists()


def test_my_programs_shows_status_terms_links_and_coupons_of_own_partnerships(world, web):
    program = make_program(world.a.advertiser, name="Outdoor Gear", terms="No brand bidding.")
    partnership = make_partnership(program, world.a.affiliate)
    make_link(partnership, code="mylink0001", sub1="blog")
    make_coupon(partnership, code="gear10")
    pending = make_program(world.a.advertiser, name="Waiting Program")
    make_partnership(pending, world.a.affiliate, status="pending")
    other = make_partnership(make_program(world.a.advertiser, name="Neighbour Program"), world.a.affiliate2)
    make_link(other, code="theirlink1")
    page = web("a", "affiliate").get("/partner/programs/").content.decode()
    assert "Outdoor Gear" in page and "No brand bidding." in page and "10 % per sale" in page
    assert "/c/mylink0001" in page and "GEAR10" in page
    assert "Waiting Program" in page and "once the advertiser approves" in page
    assert "Neighbour Program" not in page and "theirlink1" not in page
    filtered = web("a", "affiliate").get("/partner/programs/?status=pending").content.decode()
    assert "Waiting Program" in filtered and "Outdoor Gear" not in filtered


@pytest.fixture
def approved(world):
    program = make_program(world.a.advertiser, name="Outdoor Gear", landing_url="https://shop.example.com/",
                           allowed_domains=["*.shop.example.com"])
    return make_partnership(program, world.a.affiliate)


def test_link_builder_creates_a_deep_link_with_sub_ids_and_lists_its_tracking_url(world, web, approved):
    client = web("a", "affiliate")
    response = client.post("/partner/links/", {"program": approved.pk, "url": "https://blog.shop.example.com/tents",
                                               "sub1": "newsletter", "sub3": "may"})
    assert response.status_code == 302
    link = TrackingLink.objects.get(affiliate=world.a.affiliate)
    assert (link.destination_url, link.sub1, link.sub3) == ("https://blog.shop.example.com/tents", "newsletter", "may")
    page = client.get("/partner/links/").content.decode()
    assert f"/c/{link.code}" in page and f'data-copy="http://testserver/c/{link.code}"' in page
    assert "sub1=newsletter" in page


def test_link_builder_shows_a_disallowed_deep_link_host_next_to_the_field(world, web, approved):
    response = web("a", "affiliate").post("/partner/links/", {"program": approved.pk,
                                                              "url": "https://evil.example.net/"})
    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [
        "Deep links must be http(s) URLs on the program's landing host or its allowed domains."]
    assert b"allowed domains" in response.content
    assert not TrackingLink.objects.exists()


def test_link_builder_offers_only_own_approved_partnerships(world, web, approved):
    pending = make_partnership(make_program(world.a.advertiser, name="Pending One"), world.a.affiliate, "pending")
    neighbour = make_partnership(approved.program, world.a.affiliate2)
    foreign = make_partnership(make_program(world.b.advertiser), world.b.affiliate)
    client = web("a", "affiliate")
    for partnership in (pending, neighbour, foreign):
        response = client.post("/partner/links/", {"program": partnership.pk})
        assert response.status_code == 400 and "program" in response.context["form"].errors
    assert not TrackingLink.objects.exists()


def test_archiving_a_link_hides_it_and_only_own_links_can_be_archived(world, web, approved):
    link = make_link(approved, code="archiveme1")
    neighbour = make_link(make_partnership(approved.program, world.a.affiliate2), code="neighbour1")
    foreign = make_link(make_partnership(make_program(world.b.advertiser), world.b.affiliate), code="foreign001")
    client = web("a", "affiliate")
    assert client.post(f"/partner/links/{neighbour.pk}/archive").status_code == 404
    assert client.post(f"/partner/links/{foreign.pk}/archive").status_code == 404
    response = client.post(f"/partner/links/{link.pk}/archive", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"archived" in response.content
    link.refresh_from_db()
    neighbour.refresh_from_db()
    assert link.archived and not neighbour.archived
    assert b"archiveme1" not in client.get("/partner/links/").content
    assert b"archiveme1" in client.get("/partner/links/?archived=1").content


def test_creatives_are_rendered_with_the_affiliates_own_tracking_url(world, web, approved):
    Creative.objects.create(network=world.a.network, program=approved.program, kind="html", name="Box",
                            body='<a href="{tracking_url}">Shop tents</a>')
    Creative.objects.create(network=world.a.network, program=approved.program, kind="text", name="Text link",
                            body="Best tents")
    other = make_program(world.a.advertiser, name="Not Mine")
    Creative.objects.create(network=world.a.network, program=other, kind="text", name="Hidden", body="x")
    link = tracking_link_default(network=world.a.network, partnership=approved)  # as approval makes it
    page = web("a", "affiliate").get("/partner/creatives/").content.decode()
    assert f"&lt;a href=&quot;http://testserver/c/{link.code}&quot;&gt;Shop tents&lt;/a&gt;" in page
    assert "Best tents" in page and "Hidden" not in page and "Not Mine" not in page


def test_an_invitation_to_an_invite_only_program_is_accepted_from_my_programs(world, web):
    from programs.services import partnership_invite

    program = make_program(world.a.advertiser, name="Private Club", visibility="invite")
    partnership = partnership_invite(network=world.a.network, program=program, affiliate=world.a.affiliate,
                                     actor=None)
    client = web("a", "affiliate")
    page = client.get("/partner/programs/").content.decode()
    assert "The advertiser invited you" in page and "Accept invitation" in page
    assert "Private Club" not in client.get("/partner/marketplace/").content.decode()
    response = client.post(f"/partner/marketplace/{program.pk}/apply", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Build a link" in response.content
    partnership.refresh_from_db()
    assert partnership.status == "approved"


def test_a_banner_is_previewed_and_its_code_links_the_image_to_the_affiliates_url(world, web, approved, settings,
                                                                                  tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from programs.services import creative_create

    settings.MEDIA_ROOT = str(tmp_path)
    png = io.BytesIO()
    Image.new("RGB", (300, 250), "green").save(png, "PNG")
    creative_create(network=world.a.network, program=approved.program, actor=None, kind="banner", name="Tent banner",
                    image=SimpleUploadedFile("tent.png", png.getvalue(), content_type="image/png"))
    link = tracking_link_default(network=world.a.network, partnership=approved)  # as approval makes it
    page = web("a", "affiliate").get("/partner/creatives/").content.decode()
    assert '<img src="http://testserver/media/creatives/' in page and "300×250" in page
    code = f"&lt;a href=&quot;http://testserver/c/{link.code}&quot;&gt;&lt;img src=&quot;http://testserver/media/"
    assert code in page
