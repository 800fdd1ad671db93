"""The two halves of tracking together: a real redirect's click attributes a postback, and a postback that
arrives before its click is ingested is attributed when the ingester writes the click."""

import time

import pytest

from tests.tracking.clicks_support import direct_clicks, link, program, record_for, visit  # noqa: F401
from tracking import ingest
from tracking.ids import new_click_id
from tracking.models import Click, Conversion

pytestmark = pytest.mark.django_db


def post(client, **body):
    payload = {"order_id": "ORD-1", "amount": "100.00", "currency": "EUR"} | body
    return client.post("/api/v1/conversions", payload, format="json")


def test_a_redirected_click_attributes_the_conversion_and_its_own_visitor_is_not_a_self_referral(
    world, link, direct_clicks  # noqa: F811
):
    answered = visit(f"/c/{link.code}", ip="198.51.100.23")
    assert answered.status == 302
    click = Click.objects.get(click_id=answered.params["click_id"])
    body = post(world.a.client("advertiser"), click_id=click.click_id, customer_ip="198.51.100.23").json()
    conversion = Conversion.objects.get(pk=body["id"])
    assert (conversion.attribution, conversion.affiliate_id, conversion.link_id) == ("click", world.a.affiliate.pk,
                                                                                      link.pk)
    # The keyed hashes of both sides agree, and a buyer who bought from where they clicked is no fraud.
    assert conversion.customer_ip_hash == click.ip_hash
    assert "self_referral" not in conversion.fraud_signals
    # An address the affiliate's member called the API from is the affiliate buying through its own link.
    world.a.client("affiliate").get("/api/v1/me", REMOTE_ADDR="198.51.100.99")
    other = post(world.a.client("advertiser"), order_id="ORD-2", click_id=click.click_id,
                 customer_ip="198.51.100.99").json()
    assert "self_referral" in other["fraud_signals"]


def test_a_postback_before_its_click_is_attributed_when_the_ingester_writes_the_click(
    world, link, django_capture_on_commit_callbacks  # noqa: F811
):
    click_id = new_click_id(int((time.time() - 120) * 1000))
    body = post(world.a.client("advertiser"), click_id=click_id).json()
    assert body["attribution_pending"] is True and body["attribution"] == "none"
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest.ingest_records([record_for(link, click_id, sub1="late")]).inserted == 1
    conversion = Conversion.objects.get(pk=body["id"])
    assert (conversion.attribution, conversion.affiliate_id, conversion.sub1) == ("click", world.a.affiliate.pk,
                                                                                  "late")
    assert conversion.attribution_pending is False
