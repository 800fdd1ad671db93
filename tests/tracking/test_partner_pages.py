"""Partner postback page: the URL template (validation and SSRF errors next to the field), the test fire,
and the delivery log with its attempts."""

import pytest
from django.test import Client

from network.models import Affiliate
from tests.pages import web_client
from tests.tracking.conversions_support import Receiver
from tracking.models import Delivery, DeliveryAttempt

PUBLIC_TEMPLATE = "https://93.184.215.14/pb?cid={click_id}&payout={payout}&cur={currency}"


def test_postback_pages_answer_the_affiliate_only(world, web):
    delivery = Delivery.objects.create(network=world.a.network, kind="postback", event="webhook.test",
                                       affiliate=world.a.affiliate, url="https://93.184.215.14/x", method="GET")
    for url in ("/partner/postback/", f"/partner/postback/deliveries/{delivery.pk}/"):
        assert web("a", "affiliate").get(url).status_code == 200
        assert web("a", "advertiser").get(url).status_code == 403
        assert web("a", "owner").get(url).status_code == 403
        assert Client().get(url).status_code == 302
    assert web("a", "advertiser").post("/partner/postback/test").status_code == 403


def test_postback_page_documents_the_macros_and_says_what_to_do_when_empty(web):
    page = web("a", "affiliate").get("/partner/postback/").content.decode()
    for macro in ("{click_id}", "{sub1}", "{sub5}", "{order_id}", "{amount}", "{payout}", "{currency}", "{status}",
                  "{program_id}"):
        assert macro in page
    assert "No postback sent yet" in page and "Send a test postback" not in page


def test_saving_a_public_postback_url(world, web):
    response = web("a", "affiliate").post("/partner/postback/", {"postback_url": PUBLIC_TEMPLATE})
    assert response.status_code == 302
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == PUBLIC_TEMPLATE
    page = web("a", "affiliate").get("/partner/postback/").content.decode()
    assert "Send a test postback" in page and "payout={payout}" in page
    assert Affiliate.objects.get(pk=world.a.affiliate2.pk).postback_url == ""


@pytest.mark.parametrize(("template", "error"), [
    ("http://127.0.0.1/pb?cid={click_id}", "loopback address"),
    ("http://10.0.0.8/pb", "private address"),
    ("ftp://93.184.215.14/pb", "Only http and https URLs are allowed."),
    ("https://{sub1}.example/pb", "Macros are not allowed in the host"),
])
def test_unsafe_postback_urls_are_refused_next_to_the_field(world, web, template, error):
    world.a.affiliate.postback_url = PUBLIC_TEMPLATE
    world.a.affiliate.save()
    response = web("a", "affiliate").post("/partner/postback/", {"postback_url": template})
    assert response.status_code == 400
    assert any(error in message for message in response.context["form"].errors["postback_url"])
    assert error.split(" ")[0].encode() in response.content
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == PUBLIC_TEMPLATE


def test_postback_form_enforces_csrf(world):
    client = web_client(world.a.affiliate, enforce_csrf_checks=True)
    assert client.post("/partner/postback/", {"postback_url": PUBLIC_TEMPLATE}).status_code == 403
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == ""


def test_test_fire_without_a_url_says_so(web):
    response = web("a", "affiliate").post("/partner/postback/test", follow=True)
    assert b"Set a postback URL first." in response.content
    assert not Delivery.objects.exists()


def test_test_fire_calls_the_url_and_the_log_shows_code_latency_and_attempts(
        world, web, settings, django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    receiver = Receiver().start()
    try:
        web("a", "affiliate").post("/partner/postback/", {"postback_url": receiver.url + "/t?o={order_id}"})
        with django_capture_on_commit_callbacks(execute=True):
            response = web("a", "affiliate").post("/partner/postback/test")
        assert response.status_code == 200  # answered at once, on the page
        assert b'data-testid="test-fire"' in response.content and b"Answer 200" in response.content
    finally:
        receiver.stop()
    assert [r["path"] for r in receiver.requests] == ["/t?o=TEST-ORDER"]
    delivery = Delivery.objects.get(kind="postback", affiliate=world.a.affiliate)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    page = web("a", "affiliate").get("/partner/postback/").content.decode()
    assert "Succeeded" in page and f"{delivery.last_latency_ms} ms" in page and "webhook.test" in page
    detail = web("a", "affiliate").get(f"/partner/postback/deliveries/{delivery.pk}/").content.decode()
    assert 'data-testid="attempts"' in detail and "TEST-ORDER" in detail


def test_another_affiliates_or_networks_delivery_is_404_and_not_listed(world, web):
    def delivery(tenant, affiliate, url):
        return Delivery.objects.create(network=tenant.network, kind="postback", event="commission.created",
                                       affiliate=affiliate, url=url, method="GET", status="failed", attempts=3)

    own = delivery(world.a, world.a.affiliate, "https://93.184.215.14/own")
    DeliveryAttempt.objects.create(network=world.a.network, delivery=own, number=1, status_code=500, latency_ms=12)
    neighbour = delivery(world.a, world.a.affiliate2, "https://93.184.215.14/neighbour")
    foreign = delivery(world.b, world.b.affiliate, "https://93.184.215.14/foreign")
    client = web("a", "affiliate")
    assert client.get(f"/partner/postback/deliveries/{neighbour.pk}/").status_code == 404
    assert client.get(f"/partner/postback/deliveries/{foreign.pk}/").status_code == 404
    page = client.get("/partner/postback/").content.decode()
    assert "/own" in page and "/neighbour" not in page and "/foreign" not in page
    assert "500" in client.get(f"/partner/postback/deliveries/{own.pk}/").content.decode()
