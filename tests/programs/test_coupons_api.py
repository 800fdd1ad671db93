"""Coupon codes: unique per network (case-insensitive), for approved partnerships of the advertiser's programs."""

import pytest

from network.models import AuditLog
from programs.models import CouponCode
from tests.conftest import api_client
from tests.factories import make_advertiser, make_coupon, make_partnership, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def partnership(world):
    return make_partnership(make_program(world.a.advertiser), world.a.affiliate)


def _create(world, body, role="advertiser"):
    return world.a.client(role).post("/api/v1/coupons", body, format="json")


def test_advertiser_creates_a_code_stored_upper_case(world, partnership):
    response = _create(world, {"partnership": partnership.pk, "code": "spring-10", "description": "10 % off"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "SPRING-10" and body["program"] == partnership.program_id
    assert body["affiliate"] == world.a.affiliate.pk and body["is_active"] is True
    assert CouponCode.objects.get().code == "SPRING-10"
    assert AuditLog.objects.filter(action="coupon.created", target_id=str(body["id"])).exists()


def test_codes_are_unique_per_network_case_insensitive(world, partnership):
    make_coupon(partnership, code="SPRING10")
    other = make_partnership(partnership.program, world.a.affiliate2)
    response = _create(world, {"partnership": other.pk, "code": "Spring10"})
    assert response.status_code == 400 and "code" in response.json()
    foreign_partnership = make_partnership(make_program(world.b.advertiser), world.b.affiliate)
    same_code_elsewhere = world.b.client("advertiser").post(
        "/api/v1/coupons", {"partnership": foreign_partnership.pk, "code": "spring10"}, format="json")
    assert same_code_elsewhere.status_code == 201
    assert CouponCode.objects.filter(code="SPRING10").count() == 2


@pytest.mark.parametrize("code", ["ab", "with space", "üml", "x" * 65, "semi;colon", ""])
def test_invalid_codes_are_400(world, partnership, code):
    response = _create(world, {"partnership": partnership.pk, "code": code})
    assert response.status_code == 400 and "code" in response.json()
    assert not CouponCode.objects.exists()


def test_codes_only_for_approved_partnerships_of_own_programs(world):
    pending = make_partnership(make_program(world.a.advertiser), world.a.affiliate, status="pending")
    other_adv, _ = make_advertiser(world.a.network, "Other", "o@alpha.test")
    theirs = make_partnership(make_program(other_adv, name="Other"), world.a.affiliate)
    foreign = make_partnership(make_program(world.b.advertiser), world.b.affiliate)
    for target in (pending, theirs, foreign):
        response = _create(world, {"partnership": target.pk, "code": f"CODE{target.pk}"})
        assert response.status_code == 400 and "partnership" in response.json()
    assert not CouponCode.objects.exists()


def test_coupon_roles(world, partnership, anon):
    body = {"partnership": partnership.pk, "code": "SAVE5"}
    assert anon.post("/api/v1/coupons", body, format="json").status_code == 401
    assert _create(world, body, role="affiliate").status_code == 403
    assert _create(world, body, role="staff").status_code == 201


def test_coupon_lists_are_scoped(world, partnership):
    mine = make_coupon(partnership, code="MINE")
    other_adv, issued = make_advertiser(world.a.network, "Other", "o@alpha.test")
    theirs = make_coupon(make_partnership(make_program(other_adv, name="Other"), world.a.affiliate2), code="THEIRS")
    foreign = make_coupon(make_partnership(make_program(world.b.advertiser), world.b.affiliate), code="FOREIGN")

    def codes(client, query=""):
        return {row["code"] for row in client.get(f"/api/v1/coupons{query}").json()["results"]}

    assert codes(world.a.client("affiliate")) == {"MINE"}
    assert codes(world.a.client("affiliate2")) == {"THEIRS"}
    assert codes(world.a.client("advertiser")) == {"MINE"}
    assert codes(api_client(issued.raw)) == {"THEIRS"}
    assert codes(world.a.client("owner")) == {"MINE", "THEIRS"}
    assert codes(world.a.client("owner"), "?code=mine") == {"MINE"}
    assert codes(world.a.client("owner"), f"?program={theirs.partnership.program_id}") == {"THEIRS"}
    assert world.a.client("owner").get(f"/api/v1/coupons/{foreign.pk}").status_code == 404
    assert world.a.client("affiliate").get(f"/api/v1/coupons/{mine.pk}").status_code == 200


def test_advertiser_deactivates_a_code(world, partnership):
    coupon = make_coupon(partnership, code="SAVE10")
    url = f"/api/v1/coupons/{coupon.pk}/deactivate"
    assert world.a.client("affiliate").post(url).status_code == 403
    assert world.b.client("advertiser").post(url).status_code == 404
    response = world.a.client("advertiser").post(url)
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert world.a.client("advertiser").post(url).status_code == 200
    assert AuditLog.objects.filter(action="coupon.deactivated").count() == 1
    again = _create(world, {"partnership": partnership.pk, "code": "save10"})
    assert again.status_code == 400 and "code" in again.json()
