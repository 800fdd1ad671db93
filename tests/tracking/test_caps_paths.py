"""Every way a conversion arrives is capped alike (they all end in the one commission writer): the postback's
full and fast paths, a batch of kicks, and a conversion attributed late, when its click is ingested."""

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.models import Commission
from commissions.services import commissions_for_conversions
from network.models import ApiKey
from network.services import hash_api_key
from programs.models import Program
from tests.factories import make_click, make_conversion
from tracking.ids import click_id_time, new_click_id
from tracking.services import conversion_attribute_pending

from .clicks_support import direct_clicks  # noqa: F401 (a fixture)
from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db
Status = Commission.Status
CAP_ONE = {"conversions_day": 1, "conversions_month": None, "payout_month": None, "action": "reject"}


@pytest.fixture
def shop(world):
    shop = make_shop(world.a, fraud_policy=Program.FraudPolicy.RECORD)
    Program.objects.filter(pk=shop.program.pk).update(caps=CAP_ONE)
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    return shop


def _statuses(program):
    return list(Commission.objects.filter(program=program, tier=1).order_by("conversion_id")
                .values_list("status", flat=True))


def test_the_full_postback_path_is_capped(world, shop, django_capture_on_commit_callbacks):
    client = world.a.client("advertiser")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):  # `items` sends the body down the full view
            response = post_conversion(client, order_id=f"FULL-{n}", click_id=click_at(shop.link).click_id, items=[])
            assert response.status_code == 201
    assert _statuses(shop.program) == [Status.PENDING, Status.REJECTED]


def test_the_fast_postback_path_is_capped(world, shop, full_view_forbidden, django_capture_on_commit_callbacks):
    client = world.a.client("advertiser")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            response = post_conversion(client, order_id=f"FAST-{n}", click_id=click_at(shop.link).click_id)
            assert response.status_code == 201
    assert _statuses(shop.program) == [Status.PENDING, Status.REJECTED]


def test_a_batch_of_kicks_counts_its_conversions_in_order(world, shop):
    ids = [make_conversion(world.a.advertiser, order_id=f"B-{n}", amount=Decimal("20"), link=shop.link).pk
           for n in range(3)]
    assert commissions_for_conversions(conversion_ids=ids) == 3
    assert _statuses(shop.program) == [Status.PENDING, Status.REJECTED, Status.REJECTED]
    assert commissions_for_conversions(conversion_ids=ids) == 3  # idempotent: nothing counted twice
    from programs.models import CapCounter

    assert CapCounter.objects.get(program=shop.program, period="day").conversions == 1


def test_a_conversion_attributed_late_is_capped_when_its_click_arrives(world, shop,
                                                                      django_capture_on_commit_callbacks):
    client = world.a.client("advertiser")
    with django_capture_on_commit_callbacks(execute=True):
        post_conversion(client, order_id="FIRST", click_id=click_at(shop.link).click_id)
    click_id = new_click_id(int((time.time() - 60) * 1000))
    with django_capture_on_commit_callbacks(execute=True):
        body = post_conversion(client, order_id="LATE", click_id=click_id).json()
    assert body["attribution_pending"] is True
    make_click(shop.link, click_id=click_id, created_at=click_id_time(click_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert conversion_attribute_pending(conversion_id=body["id"]) == "click"
    late = Commission.objects.get(conversion_id=body["id"])
    assert late.status == Status.REJECTED and "cap of 1 conversions per day" in late.reason


def test_the_redirect_reads_a_pause_from_its_cached_link_data(world, shop, direct_clicks,  # noqa: F811
                                                              django_assert_num_queries):
    from datetime import timedelta

    from programs.models import Partnership

    from .clicks_support import visit

    program = Program.objects.get(pk=shop.program.pk)
    assert "click_id=" in visit(f"/c/{shop.link.code}").location  # warm
    program.caps_paused_until = timezone.now() + timedelta(hours=2)
    program.save(update_fields=["caps_paused_until"])  # as a cap reached saves it: the cached entry is dropped
    assert visit(f"/c/{shop.link.code}").location == shop.program.landing_url
    with django_assert_num_queries(0):
        assert visit(f"/c/{shop.link.code}").location == shop.program.landing_url
    # A partnership with its own caps follows its own pause, not the program's.
    partnership = Partnership.objects.get(pk=shop.link.partnership_id)
    partnership.caps = {"conversions_day": 10, "action": "pause"}
    partnership.save(update_fields=["caps"])
    assert "click_id=" in visit(f"/c/{shop.link.code}").location
    partnership.caps_paused_until = timezone.now() + timedelta(minutes=5)
    partnership.save(update_fields=["caps_paused_until"])
    # A link read is two queries: the code's network (programs.LinkCode), then the link on that network.
    with django_assert_num_queries(2):  # the link read again (the program stays cached)
        assert visit(f"/c/{shop.link.code}").location == shop.program.landing_url
    with django_assert_num_queries(2):  # its link read once; the program (and its pause) from the cache
        assert visit(f"/c/{shop.link2.code}").location == shop.program.landing_url
