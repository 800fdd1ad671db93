"""Attribution order (click > coupon > known customer > none), the window, and other advertisers' objects."""

from datetime import timedelta

import pytest

from programs.models import Partnership, Program
from tests.factories import make_coupon, make_link, make_partnership, make_program
from tracking.models import Conversion

from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    return make_shop(world.a, attribution_window_days=30)


def test_click_beats_coupon(world, shop):
    body = post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id,
                           coupon=shop.coupon.code).json()
    assert (body["attribution"], body["affiliate"]) == ("click", world.a.affiliate.pk)
    assert body["coupon"] == shop.coupon.code  # kept for the record


def test_coupon_beats_customer_and_is_case_insensitive(world, shop):
    client = world.a.client("advertiser")
    post_conversion(client, order_id="FIRST", customer_id="cust-1", click_id=click_at(shop.link).click_id)
    body = post_conversion(client, order_id="SECOND", customer_id="cust-1", coupon=shop.coupon.code.lower()).json()
    assert (body["attribution"], body["affiliate"]) == ("coupon", world.a.affiliate2.pk)
    assert body["partnership"] == shop.partnership2.pk and body["link"] is None


def test_known_customer_attributes_a_renewal_to_the_last_referrer(world, shop):
    client = world.a.client("advertiser")
    first = post_conversion(client, order_id="SUB-1", customer_id="cust-1", click_id=click_at(shop.link).click_id)
    renewal = post_conversion(client, order_id="SUB-2", customer_id="cust-1").json()
    assert (renewal["attribution"], renewal["affiliate"]) == ("customer", world.a.affiliate.pk)
    assert renewal["program"] == first.json()["program"] and renewal["sub1"] == "fb"
    stranger = post_conversion(client, order_id="SUB-3", customer_id="cust-2").json()
    assert stranger["attribution"] == "none" and stranger["affiliate"] is None


def test_a_rejected_conversion_does_not_make_a_known_customer(world, shop):
    Program.objects.filter(pk=shop.program.pk).update(fraud_policy="reject")
    client = world.a.client("advertiser")
    rejected = post_conversion(client, order_id="SUB-1", customer_id="cust-1",
                               click_id=click_at(shop.link, ago=timedelta(seconds=1)).click_id).json()
    assert rejected["status"] == "rejected"
    assert post_conversion(client, order_id="SUB-2", customer_id="cust-1").json()["attribution"] == "none"


def test_click_inside_the_window_attributes_and_an_expired_one_does_not(world, shop):
    client = world.a.client("advertiser")
    inside = post_conversion(client, order_id="IN", click_id=click_at(shop.link, ago=timedelta(days=29)).click_id)
    assert inside.json()["attribution"] == "click"
    expired = click_at(shop.link, ago=timedelta(days=31))
    body = post_conversion(client, order_id="OUT", click_id=expired.click_id).json()
    assert (body["attribution"], body["affiliate"], body["status"]) == ("none", None, "accepted")
    assert body["click_id"] == expired.click_id
    fallback = post_conversion(client, order_id="OUT2", click_id=expired.click_id, coupon=shop.coupon.code).json()
    assert (fallback["attribution"], fallback["affiliate"]) == ("coupon", world.a.affiliate2.pk)


def test_the_programs_own_window_applies(world):
    shop = make_shop(world.a, attribution_window_days=1)
    click = click_at(shop.link, ago=timedelta(days=2))
    assert post_conversion(world.a.client("advertiser"), click_id=click.click_id).json()["attribution"] == "none"


def test_another_advertisers_click_never_attributes(world, shop):
    from tests.factories import make_advertiser

    rival, _ = make_advertiser(world.a.network, "Rival", "rival@alpha.test")
    rival_program = make_program(rival, name="Rival program")
    rival_link = make_link(make_partnership(rival_program, world.a.affiliate))
    body = post_conversion(world.a.client("advertiser"), click_id=click_at(rival_link).click_id).json()
    assert (body["attribution"], body["affiliate"], body["program"]) == ("none", None, None)


def test_another_networks_click_never_attributes(world, shop):
    b_shop = make_shop(world.b)
    body = post_conversion(world.a.client("advertiser"), click_id=click_at(b_shop.link).click_id).json()
    assert (body["attribution"], body["affiliate"]) == ("none", None)


def test_another_advertisers_coupon_is_unknown(world, shop):
    from tests.factories import make_advertiser

    rival, _ = make_advertiser(world.a.network, "Rival", "rival@alpha.test")
    rival_coupon = make_coupon(make_partnership(make_program(rival), world.a.affiliate), code="RIVAL")
    b_shop = make_shop(world.b)
    client = world.a.client("advertiser")
    for number, code in enumerate((rival_coupon.code, b_shop.coupon.code)):
        response = post_conversion(client, order_id=f"ORD-{number}", coupon=code)
        body = response.json()
        # Never refused: recorded unattributed, the code kept, the answer warns that it is unknown.
        assert response.status_code == 201 and (body["attribution"], body["affiliate"]) == ("none", None)
        assert body["coupon"] == code and [w["code"] for w in body["warnings"]] == ["unknown_coupon"]
        assert "Unknown coupon" in body["warnings"][0]["detail"]
    assert Conversion.objects.filter(coupon__isnull=False).count() == 0
    assert Conversion.objects.count() == 2


def test_an_inactive_coupon_or_suspended_partnership_records_without_attribution(world, shop):
    client = world.a.client("advertiser")
    shop.coupon.is_active = False
    shop.coupon.save()
    body = post_conversion(client, coupon=shop.coupon.code).json()
    assert (body["attribution"], body["affiliate"], body["coupon"]) == ("none", None, shop.coupon.code)
    shop.coupon.is_active = True
    shop.coupon.save()
    Partnership.objects.filter(pk=shop.partnership2.pk).update(status="suspended")
    assert post_conversion(client, order_id="2", coupon=shop.coupon.code).json()["attribution"] == "none"


def test_unattributed_conversions_may_name_their_program(world, shop):
    body = post_conversion(world.a.client("advertiser"), program=shop.program.pk).json()
    assert (body["attribution"], body["program"]) == ("none", shop.program.pk)
    b_shop = make_shop(world.b)
    response = post_conversion(world.a.client("advertiser"), order_id="2", program=b_shop.program.pk)
    assert response.status_code == 400 and "Unknown program" in str(response.json())
    mismatch = post_conversion(world.a.client("advertiser"), order_id="3", program=shop.program.pk, currency="USD")
    assert mismatch.status_code == 400 and "currency" in mismatch.json()
