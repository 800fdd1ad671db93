"""Referral links: each affiliate's opaque code on the network's join page (`?ref=`), sign-ups through it recorded
as referrals (never across networks, never an error), and the partner portal's referrals page with the
second-tier earnings."""

from decimal import Decimal

from django.test import Client

from network.models import Affiliate
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_affiliate

PASSWORD = "correct-horse-battery-9"


def sign_up(path: str, email: str, name: str = "New Partner"):
    return Client().post(path, {"name": name, "email": email, "password1": PASSWORD, "password2": PASSWORD})


def test_every_affiliate_has_an_opaque_referral_code_unique_in_its_network(world):
    codes = {world.a.affiliate.referral_code, world.a.affiliate2.referral_code}
    assert len(codes) == 2 and all(len(code) == 10 for code in codes)
    assert str(world.a.affiliate.pk) not in codes


def test_a_sign_up_through_a_referral_link_records_the_referrer(world):
    code = world.a.affiliate.referral_code
    page = Client().get(f"/n/{world.a.network.slug}/join?ref={code}")
    assert page.status_code == 200 and b'data-testid="referred-by"' in page.content
    assert world.a.affiliate.name.encode() in page.content
    response = sign_up(f"/n/{world.a.network.slug}/join?ref={code}", "friend@example.test")
    assert response.status_code == 302
    joined = Affiliate.objects.get(network=world.a.network, email="friend@example.test")
    assert joined.referred_by_id == world.a.affiliate.pk


def test_an_unknown_or_another_networks_code_is_ignored(world):
    for ref in ("nope", world.b.affiliate.referral_code, "x" * 300, ""):
        email = f"p{len(ref)}-{ref[:4]}@example.test".lower()
        page = Client().get(f"/n/{world.a.network.slug}/join", {"ref": ref})
        assert page.status_code == 200 and b'data-testid="referred-by"' not in page.content
        response = sign_up(f"/n/{world.a.network.slug}/join?ref={ref}", email)
        assert response.status_code == 302
        joined = Affiliate.objects.get(network=world.a.network, email=email)
        assert joined.referred_by_id is None


def test_the_referrals_page_shows_the_link_who_joined_and_second_tier_earnings(world, web):
    referred, _ = make_affiliate(world.a.network, "Friend Site", "friend@alpha.test", referred_by=world.a.affiliate)
    make_affiliate(world.a.network, "Stranger Site", "stranger@alpha.test")
    make_affiliate(world.b.network, "Bravo Friend", "friend@bravo.test", referred_by=world.b.affiliate)
    program, link = program_with_link(world.a, affiliate=referred, second_tier_percent=Decimal("5"),
                                      name="Two Tier Shop")
    convert(world.a, link, "ORDER-1", "200.00")  # 10 % = 20.00 to the friend, 5 % of it = 1.00 to the referrer

    page = web("a", "affiliate").get("/partner/referrals/")
    assert page.status_code == 200
    html = page.content.decode()
    expected = f"http://testserver/n/{world.a.network.slug}/join?ref={world.a.affiliate.referral_code}"
    assert expected in html and f'data-copy="{expected}"' in html
    assert "Friend Site" in html and "Stranger Site" not in html and "Bravo Friend" not in html
    assert "Two Tier Shop (5 %)" in html
    totals = page.context["totals"]
    assert totals == [{"currency": "EUR", "pending": Decimal("1.00"), "approved": Decimal("0.00"),
                       "paid": Decimal("0.00"), "total": Decimal("1.00")}]
    assert "€1.00" in html
    assert page.context["rows"][0]["earned"] == [("EUR", Decimal("1.00"))]

    # The referred affiliate earned first-tier money, not referral money; nobody joined through its link.
    other = web("a", "affiliate2").get("/partner/referrals/")
    assert other.context["totals"] == [] and other.context["rows"] == []


def test_referrals_page_is_for_affiliates_only(world, web):
    assert web("a", "advertiser").get("/partner/referrals/").status_code == 403
    assert web("a", "owner").get("/partner/referrals/").status_code == 403
    assert Client().get("/partner/referrals/").status_code == 302
