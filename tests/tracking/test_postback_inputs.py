"""Saved outbound URLs with non-ASCII characters become URIs (or are refused), a stored one that is not never
breaks the conversion call; postback templates take only known macros, `{event}` among them, and fire for the
events the affiliate chose (its conversions' commission events by default)."""

import pytest

from tests.pages import web_client
from tracking.models import Delivery, WebhookEndpoint
from tracking.outbound import POSTBACK_MACROS, event_emit

from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db
PUBLIC = "https://93.184.215.14"


def save_postback(world, template, **extra):
    return world.a.client("affiliate").put("/api/v1/postback", {"postback_url": template, **extra}, format="json")


@pytest.mark.parametrize(("url", "stored"), [
    ("https://hooks.example.com/hooks/café", "https://hooks.example.com/hooks/caf%C3%A9"),
    ("https://hooks.example.com/h?src=réseau", "https://hooks.example.com/h?src=r%C3%A9seau"),
    ("https://café.example/hook", "https://xn--caf-dma.example/hook"),
])
def test_a_webhook_url_with_non_ascii_characters_is_stored_as_a_uri(world, public_dns, url, stored):
    client = world.a.client("advertiser")
    response = client.post("/api/v1/webhooks", {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 201 and response.json()["url"] == stored
    assert WebhookEndpoint.objects.get().url == stored
    response = client.patch(f"/api/v1/webhooks/{response.json()['id']}", {"url": url + "ü"}, format="json")
    assert response.status_code == 200 and response.json()["url"] == stored + "%C3%BC"


def test_a_postback_template_with_non_ascii_characters_is_stored_as_a_uri(world, public_dns):
    response = save_postback(world, "https://tracker.example/pb/café?src=réseau&cid={click_id}")
    assert response.status_code == 200
    stored = "https://tracker.example/pb/caf%C3%A9?src=r%C3%A9seau&cid={click_id}"
    assert response.json()["postback_url"] == stored
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == stored


def test_an_encoded_url_longer_than_the_column_is_refused(world, public_dns):
    response = save_postback(world, "https://tracker.example/pb?x=" + "é" * 300)
    assert response.status_code == 400 and "postback_url" in response.json()
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == ""


def test_stored_non_ascii_urls_fail_their_deliveries_not_the_conversion_call(
    world, public_dns, django_capture_on_commit_callbacks
):
    shop = make_shop(world.a)
    WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                   url="https://hooks.example.com/hooks/café", events=["*"])
    type(world.a.affiliate).objects.filter(pk=world.a.affiliate.pk).update(
        postback_url="https://tracker.example/pb?src=réseau&cid={click_id}")  # saved before URLs were converted
    click = click_at(shop.link)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_conversion(world.a.client("advertiser"), click_id=click.click_id)
    assert response.status_code == 201
    deliveries = list(Delivery.objects.order_by("kind"))
    assert {d.kind for d in deliveries} == {"postback", "webhook"}
    assert all(d.status == "failed" and d.attempts == 1 and "ASCII" in d.last_error for d in deliveries)


@pytest.mark.parametrize("template", ["https://tracker.example/pb?cid={clickid}",
                                      "https://tracker.example/pb?s={SUB1}&c={click_id}",
                                      "https://tracker.example/pb?c={click_id}&x={nope}&y={nope}",
                                      "https://tracker.example/pb?c={click-id}"])
def test_unknown_macros_are_refused_with_the_known_ones(world, public_dns, template):
    response = save_postback(world, template)
    assert response.status_code == 400
    [message] = response.json()["postback_url"]
    assert message.startswith("Unknown macros: ")
    assert all(f"{{{name}}}" in message for name in POSTBACK_MACROS)
    if "{nope}" in template:
        assert message.count("{nope}") == 1
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == ""


def test_unknown_macros_are_refused_on_the_partner_page(world, public_dns):
    response = web_client(world.a.affiliate).post("/partner/postback/",
                                                  {"postback_url": f"{PUBLIC}/pb?cid={{clickid}}"})
    assert response.status_code == 400
    assert any("{clickid}" in error and "{click_id}" in error
               for error in response.context["form"].errors["postback_url"])
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == ""


def test_the_postback_fires_for_conversion_events_by_default_with_the_event_macro(
    world, receiver, django_capture_on_commit_callbacks
):
    response = save_postback(world, receiver.url + "/pb?e={event}&st={status}&amt={amount}")
    assert response.status_code == 200
    assert response.json()["events"] == [
        "commission.created", "commission.approved", "commission.rejected", "commission.on_hold",
        "commission.released", "commission.reversed", "commission.partially_reversed", "commission.paid"]
    assert "event" in response.json()["macros"]
    shop = make_shop(world.a)
    with django_capture_on_commit_callbacks(execute=True):
        post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id)
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={}, affiliate_id=world.a.affiliate.pk,
                   macros={"status": "paid", "amount": "9.00"})
    assert [r["path"] for r in receiver.requests] == ["/pb?e=commission.created&st=pending&amt=100.00"]
    assert list(Delivery.objects.filter(kind="postback").values_list("event", flat=True)) == ["commission.created"]


def test_an_affiliate_chooses_the_events_that_fire_its_postback(world, receiver, django_capture_on_commit_callbacks):
    client = world.a.client("affiliate")
    response = save_postback(world, receiver.url + "/pb?e={event}&p={payout}", events=["payout.paid"])
    assert response.status_code == 200 and response.json()["events"] == ["payout.paid"]
    assert client.get("/api/v1/postback").json()["events"] == ["payout.paid"]
    shop = make_shop(world.a)
    with django_capture_on_commit_callbacks(execute=True):
        post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id)
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={}, affiliate_id=world.a.affiliate.pk,
                   macros={"payout": "9.00"})
    assert [r["path"] for r in receiver.requests] == ["/pb?e=payout.paid&p=9.00"]
    # Absent events keep the choice; an empty list goes back to the default.
    assert save_postback(world, receiver.url + "/pb").json()["events"] == ["payout.paid"]
    assert save_postback(world, receiver.url + "/pb", events=[]).json()["events"][0] == "commission.created"


@pytest.mark.parametrize("events", [["conversion.created"], ["payout.paid", "nope"], "payout.paid"])
def test_unknown_postback_events_are_refused(world, public_dns, events):
    response = save_postback(world, f"{PUBLIC}/pb", events=events)
    assert response.status_code == 400 and list(response.json()) == ["events"]
    world.a.affiliate.refresh_from_db()
    assert (world.a.affiliate.postback_url, world.a.affiliate.postback_events) == ("", [])


def test_the_partner_page_saves_the_chosen_events(world, public_dns):
    client = web_client(world.a.affiliate)
    response = client.post("/partner/postback/", {"postback_url": f"{PUBLIC}/pb?e={{event}}",
                                                  "events": ["commission.approved", "payout.failed"]})
    assert response.status_code == 302
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_events == ["commission.approved", "payout.failed"]
    page = client.get("/partner/postback/").content.decode()
    assert 'value="payout.failed"' in page and "{event}" in page
