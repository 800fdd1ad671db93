"""Advertiser program pages: list, create/edit with rules and tiers (the API's errors next to the fields),
status, creatives, coupons, invitations; permissions and 404s across advertisers and networks."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from programs.models import CommissionRule, CouponCode, Creative, Partnership, Program
from tests.factories import make_coupon, make_partnership
from tests.pages import make_shop, web_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    return make_shop(world)


def program_data(**overrides):
    data = {
        "name": "Camping Tents", "description": "Tents for everyone", "landing_url": "https://tents.example.com/",
        "currency": "EUR", "allowed_domains": "tents.example.com\n*.tents.example.com", "approval": "manual",
        "visibility": "public", "attribution_window_days": "45", "hold_days": "14", "fallback_url": "",
        "second_tier_percent": "5", "fraud_policy": "hold", "terms": "No brand bidding.",
        "rules-TOTAL_FORMS": "2",
        "rules-0-event": "sale", "rules-0-kind": "fixed", "rules-0-payout": "5.00", "rules-0-revenue": "6.00",
        "rules-0-tiers": "10 7.50\n50 9", "rules-0-tier_period": "month", "rules-0-recurring_months": "0",
        "rules-1-event": "lead", "rules-1-kind": "fixed", "rules-1-payout": "", "rules-1-tier_period": "month",
    }
    return data | overrides


@pytest.mark.parametrize("url", ["/advertiser/programs/", "/advertiser/programs/new/", "/advertiser/partners/",
                                 "/advertiser/commissions/", "/advertiser/conversions/", "/advertiser/"])
def test_pages_need_login_and_the_advertiser_role(world, web, url):
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert web("a", "affiliate").get(url).status_code == 403
    assert web("a", "owner").get(url).status_code == 403
    assert web("a", "advertiser").get(url).status_code == 200


def test_list_shows_own_programs_only_and_nav_links(world, web, shop):
    page = web("a", "advertiser").get("/advertiser/programs/").content.decode()
    assert "Outdoor Gear" in page and "Rival Program" not in page and "Bravo Program" not in page
    for label in ("Programs", "Partners", "Conversions", "Commissions", "Integration"):
        assert f">{label}</a>" in page


def test_list_empty_state_says_what_to_do(world, web):
    page = web("a", "advertiser").get("/advertiser/programs/").content.decode()
    assert "You have no program yet" in page and "/advertiser/programs/new/" in page


def test_create_a_program_with_a_tiered_rule(world, web):
    response = web("a", "advertiser").post("/advertiser/programs/new/", program_data())
    program = Program.objects.get(name="Camping Tents")
    assert response.status_code == 302 and response["Location"] == f"/advertiser/programs/{program.pk}/"
    assert program.advertiser == world.a.advertiser and program.network == world.a.network
    assert program.allowed_domains == ["tents.example.com", "*.tents.example.com"]
    assert (program.hold_days, program.attribution_window_days, program.second_tier_percent) == (14, 45, Decimal("5"))
    [rule] = program.rules.all()
    assert (rule.kind, rule.payout, rule.revenue) == ("fixed", Decimal("5.00"), Decimal("6.00"))
    assert rule.tiers == [{"min_conversions": 10, "payout": "7.50"}, {"min_conversions": 50, "payout": "9"}]
    page = web("a", "advertiser").get(response["Location"]).content.decode()
    assert "≥ 10: €7.50" in page and "≥ 50: €9.00" in page


@pytest.mark.parametrize(("overrides", "message"), [
    ({"landing_url": "javascript:alert(1)"}, "landing_url must be an http(s) URL"),
    ({"currency": "XYZ"}, "&#x27;XYZ&#x27; is not an ISO 4217 currency code."),
    ({"hold_days": "-1"}, "Ensure this value is greater than or equal to 0."),
    ({"rules-0-kind": "percent", "rules-0-payout": "150", "rules-0-tiers": ""}, "A percent must be between 0 and 100."),
    ({"rules-0-tiers": "50 7\n10 9"}, "Tiers must be strictly ascending by min_conversions."),
    ({"rules-0-tiers": "ten"}, "Line 1: write"),
    ({"rules-0-payout": "5.001"}, "More decimal places than EUR has."),
    ({"rules-0-payout": ""}, "This list may not be empty."),
    ({"allowed_domains": "not a domain!"}, "is not a valid domain"),
])
def test_bad_values_show_the_api_errors_and_create_nothing(world, web, overrides, message):
    response = web("a", "advertiser").post("/advertiser/programs/new/", program_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Program.objects.filter(name="Camping Tents").exists()


def test_field_error_is_rendered_next_to_its_field(world, web):
    page = web("a", "advertiser").post("/advertiser/programs/new/", program_data(hold_days="x")).content.decode()
    error = page.index("A valid integer is required.")
    assert page.rindex('for="id_hold_days"', 0, error) > page.rindex('for="id_attribution_window_days"', 0, error)


def test_edit_changes_settings_adds_a_rule_and_keeps_the_currency(world, web, shop):
    client = web("a", "advertiser")
    url = f"/advertiser/programs/{shop.program.pk}/edit/"
    page = client.get(url).content.decode()
    assert 'value="Outdoor Gear"' in page and "disabled" in page
    data = program_data(name="Outdoor Gear 2", currency="USD", **{
        "rules-TOTAL_FORMS": "1", "rules-0-kind": "percent", "rules-0-payout": "12", "rules-0-revenue": "",
        "rules-0-tiers": "", "rules-0-affiliate": str(world.a.affiliate.pk)})
    response = client.post(url, data)
    assert response.status_code == 302
    shop.program.refresh_from_db()
    assert shop.program.name == "Outdoor Gear 2" and shop.program.currency == "EUR"
    newest = shop.program.rules.order_by("-id").first()
    assert newest.payout == Decimal("12") and newest.affiliate == world.a.affiliate
    assert shop.program.rules.count() == 2


def test_other_advertisers_and_networks_programs_are_404(world, web, shop):
    client = web("a", "advertiser")
    for program in (shop.rival_program, shop.other_program):
        assert client.get(f"/advertiser/programs/{program.pk}/").status_code == 404
        assert client.get(f"/advertiser/programs/{program.pk}/edit/").status_code == 404
        assert client.post(f"/advertiser/programs/{program.pk}/edit/", program_data()).status_code == 404
        assert client.post(f"/advertiser/programs/{program.pk}/status", {"status": "paused"}).status_code == 404
    assert Program.objects.get(pk=shop.rival_program.pk).status == "active"


def test_status_pause_activate_archive_and_archived_cannot_change(world, web, shop):
    client = web("a", "advertiser")
    url = f"/advertiser/programs/{shop.program.pk}/status"
    client.post(url, {"status": "paused"})
    assert Program.objects.get(pk=shop.program.pk).status == "paused"
    client.post(url, {"status": "archived"})
    assert Program.objects.get(pk=shop.program.pk).status == "archived"
    response = client.post(url, {"status": "active"}, follow=True)
    assert "archived; it can no longer be changed" in response.content.decode()
    assert Program.objects.get(pk=shop.program.pk).status == "archived"


def png(width=120, height=60) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#0172ad").save(buffer, format="PNG")
    return SimpleUploadedFile("banner.png", buffer.getvalue(), content_type="image/png")


def test_creatives_banner_upload_text_body_and_errors(world, web, shop, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = web("a", "advertiser")
    url = f"/advertiser/programs/{shop.program.pk}/creatives"
    response = client.post(url, {"kind": "banner", "name": "Summer banner", "image": png()})
    assert response.status_code == 302
    banner = Creative.objects.get(name="Summer banner")
    assert (banner.width, banner.height, banner.program) == (120, 60, shop.program)
    client.post(url, {"kind": "text", "name": "Text link", "body": "Shop tents at {tracking_url}"})
    assert Creative.objects.get(name="Text link").body == "Shop tents at {tracking_url}"
    response = client.post(url, {"kind": "banner", "name": "No image"})
    assert response.status_code == 400 and "A banner needs an image." in response.content.decode()
    response = client.post(url, {"kind": "html", "name": "Empty"})
    assert response.status_code == 400 and "A html creative needs a body." in response.content.decode()
    assert Creative.objects.count() == 2
    page = client.get(f"/advertiser/programs/{shop.program.pk}/").content.decode()
    assert "Summer banner" in page and "120×60" in page and "/c/preview" in page


def test_coupons_create_duplicate_and_deactivate(world, web, shop):
    client = web("a", "advertiser")
    url = f"/advertiser/programs/{shop.program.pk}/coupons"
    response = client.post(url, {"partnership": shop.link.partnership_id, "code": "tents10"})
    assert response.status_code == 302
    coupon = CouponCode.objects.get(code="TENTS10")
    response = client.post(url, {"partnership": shop.link.partnership_id, "code": "Tents10"})
    assert response.status_code == 400
    assert "The code TENTS10 is already used in this network." in response.content.decode()
    response = client.post(url, {"partnership": shop.link.partnership_id, "code": "a b"})
    assert response.status_code == 400 and "3 to 64 letters" in response.content.decode()
    pending = make_partnership(shop.program, world.a.affiliate2, status="pending")
    response = client.post(url, {"partnership": pending.pk, "code": "PENDING1"})
    assert response.status_code == 400 and "Choose an approved partner" in response.content.decode()
    client.post(f"/advertiser/coupons/{coupon.pk}/deactivate")
    assert not CouponCode.objects.get(pk=coupon.pk).is_active
    rival_coupon = make_coupon(make_partnership(shop.rival_program, world.a.affiliate), code="RIVAL1")
    assert client.post(f"/advertiser/coupons/{rival_coupon.pk}/deactivate").status_code == 404
    assert CouponCode.objects.get(pk=rival_coupon.pk).is_active


def test_invite_an_affiliate_to_an_invite_only_program(world, web, shop):
    Program.objects.filter(pk=shop.program.pk).update(visibility="invite")
    client = web("a", "advertiser")
    url = f"/advertiser/programs/{shop.program.pk}/invite"
    assert "This program is invite only" in client.get(f"/advertiser/programs/{shop.program.pk}/").content.decode()
    response = client.post(url, {"affiliate": world.a.affiliate2.pk})
    assert response.status_code == 302
    invited = Partnership.objects.get(program=shop.program, affiliate=world.a.affiliate2)
    assert invited.status == "pending" and invited.invited_at is not None
    response = client.post(url, {"affiliate": world.b.affiliate.pk})  # another network's affiliate
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_csrf_is_enforced_on_the_program_form(world, shop):
    client = web_client(world.a.advertiser, enforce_csrf_checks=True)
    assert client.post("/advertiser/programs/new/", program_data()).status_code == 403
    page = client.get("/advertiser/programs/new/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    assert not Program.objects.filter(name="Camping Tents").exists()
    assert CommissionRule.objects.filter(program__name="Camping Tents").count() == 0


def test_creative_hide_and_show_and_other_advertisers_creatives_are_404(world, web, shop):
    client = web("a", "advertiser")
    creative = Creative.objects.create(network=world.a.network, program=shop.program, kind="text", name="Mine",
                                       body="Go {tracking_url}")
    rival = Creative.objects.create(network=world.a.network, program=shop.rival_program, kind="text", name="Rival",
                                    body="Go {tracking_url}")
    client.post(f"/advertiser/creatives/{creative.pk}/toggle")
    assert not Creative.objects.get(pk=creative.pk).is_active
    client.post(f"/advertiser/creatives/{creative.pk}/toggle")
    assert Creative.objects.get(pk=creative.pk).is_active
    assert client.post(f"/advertiser/creatives/{rival.pk}/toggle").status_code == 404
    assert Creative.objects.get(pk=rival.pk).is_active
    response = client.post(f"/advertiser/programs/{shop.rival_program.pk}/creatives",
                           {"kind": "text", "name": "Sneaky", "body": "x"})
    assert response.status_code == 404 and not Creative.objects.filter(name="Sneaky").exists()


def test_list_counts_each_partner_once_beside_several_rules(world, web):
    from tests.factories import make_affiliate, make_program

    program = make_program(world.a.advertiser, name="Two Rules", rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("10")},
        {"event": "lead", "kind": "fixed", "payout": Decimal("2")},
        {"event": "signup", "kind": "fixed", "payout": Decimal("1")},
    ])
    make_partnership(program, world.a.affiliate)
    waiting, _ = make_affiliate(world.a.network, "Waiting Blog", "waiting@alpha.test")
    make_partnership(program, waiting, status="pending")
    page = web("a", "advertiser").get("/advertiser/programs/").content.decode()
    assert f'<td data-testid="partners-{program.pk}">1</td>' in page
    waiting_link = f'<a href="/advertiser/partners/?program={program.pk}">1 waiting</a>'
    assert f'<td data-testid="applications-{program.pk}">{waiting_link}' in page
