"""Outbound: webhook endpoints, signatures a receiver can verify, postback macros, retries with backoff,
resend, the delivery log's scoping, and SSRF refusals."""

import json
import socket
import time

import pytest
from django.db import transaction

from tracking import netguard
from tracking.models import Delivery, DeliveryAttempt, WebhookEndpoint
from tracking.outbound import event_emit, expand_postback, sign, verify_signature

from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db


def create_endpoint(client, url, events=("*",)):
    return client.post("/api/v1/webhooks", {"url": url, "events": list(events)}, format="json")


# --- signatures and macros ------------------------------------------------------------------------
def test_a_receiver_verifies_the_signature_and_rejects_old_or_tampered_ones():
    body = b'{"event":"conversion.created"}'
    header = sign("whsec_test", body)
    assert verify_signature("whsec_test", header, body)
    assert not verify_signature("whsec_other", header, body)
    assert not verify_signature("whsec_test", header, body + b" ")
    old = sign("whsec_test", body, timestamp=int(time.time()) - 301)
    assert not verify_signature("whsec_test", old, body)
    assert verify_signature("whsec_test", old, body, tolerance=600)
    assert not verify_signature("whsec_test", "garbage", body)
    t, v1 = header.split(",")
    assert t.startswith("t=") and v1.startswith("v1=") and len(v1) == 3 + 64


def test_postback_macros_are_url_encoded_and_unknown_ones_empty():
    template = "https://t.example/pb?cid={click_id}&s={sub1}&amt={amount}&x={nope}&p={payout}&st={status}"
    url = expand_postback(template, {"click_id": "01ABC", "sub1": "a b&c=d", "amount": "10.00", "status": "held",
                                     "payout": None})
    assert url == "https://t.example/pb?cid=01ABC&s=a%20b%26c%3Dd&amt=10.00&x=&p=&st=held"


# --- webhooks end to end --------------------------------------------------------------------------
def test_conversion_created_webhook_is_signed_and_verifiable(world, receiver, django_capture_on_commit_callbacks):
    shop = make_shop(world.a)
    created = create_endpoint(world.a.client("advertiser"), receiver.url + "/hooks", ["conversion.created"])
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        conversion = post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id).json()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks" and request["headers"]["X-Event"] == "conversion.created"
    assert verify_signature(secret, request["headers"]["X-Signature"], request["body"])
    payload = json.loads(request["body"])
    assert payload["event"] == "conversion.created" and payload["data"]["id"] == conversion["id"]
    assert payload["data"]["amount"] == "100.00" and payload["data"]["affiliate"] == world.a.affiliate.pk
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.last_latency_ms is not None and "received" in delivery.last_response_excerpt


def test_event_emit_reaches_subscribed_endpoints_and_operator_endpoints_only(world, public_dns,
                                                                             django_capture_on_commit_callbacks):
    network = world.a.network
    mine = WebhookEndpoint.objects.create(network=network, advertiser=world.a.advertiser, url="https://a.test/1",
                                          events=["commission.approved"])
    WebhookEndpoint.objects.create(network=network, advertiser=world.a.advertiser, url="https://a.test/2",
                                   events=["payout.paid"])
    operators = WebhookEndpoint.objects.create(network=network, url="https://ops.test/", events=["*"])
    WebhookEndpoint.objects.create(network=network, advertiser=world.a.advertiser, url="https://a.test/off",
                                   events=["*"], is_active=False)
    from tests.factories import make_advertiser

    other, _ = make_advertiser(network, "Other", "other@alpha.test")
    WebhookEndpoint.objects.create(network=network, advertiser=other, url="https://other.test/", events=["*"])
    WebhookEndpoint.objects.create(network=world.b.network, url="https://b.test/", events=["*"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        event_emit(network_id=network.pk, event="commission.approved", data={"amount": "5.00"},
                   advertiser_id=world.a.advertiser.pk)
    assert {d.endpoint_id for d in Delivery.objects.all()} == {mine.pk, operators.pk}
    assert len(callbacks) == 1


def test_event_emit_rolls_back_with_its_transaction(world):
    WebhookEndpoint.objects.create(network=world.a.network, url="https://ops.test/", events=["*"])
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={})
        raise RuntimeError
    assert Delivery.objects.count() == 0


def test_failed_attempts_back_off_exponentially_then_fail_then_resend_succeeds(
    world, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 502, 503, 500, 500, 200]
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                              url=receiver.url, events=["*"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={"id": 1},
                   advertiser_id=world.a.advertiser.pk)
    delivery = Delivery.objects.get(endpoint=endpoint)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [a.status_code for a in attempts] == [500, 502, 503, 500, 500]
    assert [a.retry_in_seconds for a in attempts] == [30, 60, 120, 240, None]
    assert (delivery.status, delivery.attempts) == ("failed", 5)

    client = world.a.client("advertiser")
    listed = client.get("/api/v1/deliveries?status=failed").json()["results"]
    assert [row["id"] for row in listed] == [delivery.pk] and listed[0]["last_status_code"] == 500
    detail = client.get(f"/api/v1/deliveries/{delivery.pk}").json()
    assert len(detail["attempt_log"]) == 5 and detail["attempt_log"][0]["latency_ms"] is not None
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(f"/api/v1/deliveries/{delivery.pk}/resend")
    assert resent.status_code == 202
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 6, 200)
    # Each attempt is signed afresh; the body is the same.
    assert len({r["headers"]["X-Signature"] for r in receiver.requests}) >= 1
    assert len({r["body"] for r in receiver.requests}) == 1


def test_a_connection_error_is_logged_and_retried(world, settings, django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.OUTBOUND_MAX_ATTEMPTS = 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    WebhookEndpoint.objects.create(network=world.a.network, url=f"http://127.0.0.1:{closed_port}/", events=["*"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={})
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, None)
    assert delivery.last_error


def test_a_receiver_slower_than_the_timeout_is_retried_with_backoff_then_failed_then_resent(
    world, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from tracking import tasks_outbound

    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2
    settings.OUTBOUND_MAX_ATTEMPTS = 3
    countdowns = []
    retry = tasks_outbound._retry
    monkeypatch.setattr(tasks_outbound, "_retry", lambda task, countdown, *args: (
        countdowns.append(countdown), retry(task, countdown, *args))[1])
    receiver.delay = 1.0  # answers long after the sender gave up
    WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser, url=receiver.url,
                                   events=["*"])
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={"id": 7},
                   advertiser_id=world.a.advertiser.pk)
    assert time.monotonic() - started < 2.5  # three attempts cut at the timeout, not three full waits
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, None)
    assert "timed out" in delivery.last_error and delivery.completed_at is not None
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [(a.status_code, a.succeeded) for a in attempts] == [(None, False)] * 3
    assert all("timed out" in a.error for a in attempts)
    assert [a.retry_in_seconds for a in attempts] == [30, 60, None] and countdowns == [30, 60]
    assert len(receiver.requests) == 3

    client = world.a.client("advertiser")
    [listed] = client.get("/api/v1/deliveries?status=failed").json()["results"]
    assert listed["id"] == delivery.pk and "timed out" in listed["last_error"]
    detail = client.get(f"/api/v1/deliveries/{delivery.pk}").json()
    assert [row["retry_in_seconds"] for row in detail["attempt_log"]] == [30, 60, None]
    assert world.b.client("owner").post(f"/api/v1/deliveries/{delivery.pk}/resend").status_code == 404

    receiver.delay = 0.0
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/deliveries/{delivery.pk}/resend").status_code == 202
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 4, 200)
    assert delivery.last_error == "" and len(receiver.requests) == 4
    assert client.get("/api/v1/deliveries?status=failed").json()["results"] == []


# --- affiliate postbacks --------------------------------------------------------------------------
def test_affiliate_sets_a_postback_and_it_fires_for_attributed_conversions(
    world, receiver, django_capture_on_commit_callbacks
):
    shop = make_shop(world.a)
    client = world.a.client("affiliate")
    template = receiver.url + "/pb?cid={click_id}&s1={sub1}&amt={amount}&cur={currency}&st={status}&p={program_id}"
    response = client.put("/api/v1/postback", {"postback_url": template}, format="json")
    assert response.status_code == 200 and response.json()["postback_url"] == template
    assert "payout" in client.get("/api/v1/postback").json()["macros"]
    click = click_at(shop.link)
    with django_capture_on_commit_callbacks(execute=True):
        post_conversion(world.a.client("advertiser"), click_id=click.click_id)
        post_conversion(world.a.client("advertiser"), order_id="NONE")  # unattributed: no postback
    # One postback per sale, from the commission it earned (status "pending" while in its hold period).
    assert [r["path"] for r in receiver.requests] == [
        f"/pb?cid={click.click_id}&s1=fb&amt=100.00&cur=EUR&st=pending&p={shop.program.pk}"
    ]
    delivery = Delivery.objects.get(kind="postback")
    assert delivery.affiliate_id == world.a.affiliate.pk and delivery.status == "succeeded"
    assert [row["id"] for row in client.get("/api/v1/deliveries").json()["results"]] == [delivery.pk]
    assert world.a.client("affiliate2").get(f"/api/v1/deliveries/{delivery.pk}").status_code == 404
    assert world.a.client("advertiser").get(f"/api/v1/deliveries/{delivery.pk}").status_code == 404
    assert world.a.client("owner").get(f"/api/v1/deliveries/{delivery.pk}").status_code == 200


def test_postback_test_fire(world, receiver, django_capture_on_commit_callbacks):
    client = world.a.client("affiliate")
    assert client.post("/api/v1/postback/test").status_code == 400
    client.put("/api/v1/postback", {"postback_url": receiver.url + "/t?o={order_id}"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/postback/test")
    assert response.status_code == 202 and response.json()["kind"] == "postback"
    assert [r["path"] for r in receiver.requests] == ["/t?o=TEST-ORDER"]


@pytest.mark.parametrize("template", ["ftp://t.example/pb", "https://{sub1}.example/pb", "not a url",
                                      "http://127.0.0.1/pb?c={click_id}"])
def test_bad_postback_templates_are_400(world, public_dns, template):
    response = world.a.client("affiliate").put("/api/v1/postback", {"postback_url": template}, format="json")
    assert response.status_code == 400 and "postback_url" in response.json()
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == ""


@pytest.mark.parametrize("role", ["advertiser", "owner"])
def test_postback_settings_are_for_affiliates_only(world, role, anon):
    assert world.a.client(role).get("/api/v1/postback").status_code == 403
    assert world.a.client(role).put("/api/v1/postback", {"postback_url": ""}, format="json").status_code == 403
    assert world.a.client(role).post("/api/v1/postback/test").status_code == 403
    assert anon.get("/api/v1/postback").status_code == 401
    assert anon.post("/api/v1/postback/test").status_code == 401


def test_each_affiliate_reads_and_sets_only_its_own_postback(world, public_dns):
    world.a.client("affiliate").put("/api/v1/postback", {"postback_url": "https://a.example/pb"}, format="json")
    assert world.a.client("affiliate2").get("/api/v1/postback").json()["postback_url"] == ""
    assert world.b.client("affiliate").get("/api/v1/postback").json()["postback_url"] == ""
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.postback_url == "https://a.example/pb"


# --- webhook endpoint API -------------------------------------------------------------------------
def test_webhook_crud_shows_the_secret_once(world, public_dns):
    client = world.a.client("advertiser")
    created = create_endpoint(client, "https://hooks.shop.test/in", ["conversion.created", "commission.approved"])
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["id"]
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint_id}").json()
    assert "secret" not in client.get("/api/v1/webhooks").json()["results"][0]
    patched = client.patch(f"/api/v1/webhooks/{endpoint_id}", {"events": ["*"], "is_active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["events"] == ["*"] and patched.json()["is_active"] is False
    rotated = client.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret").json()["secret"]
    assert rotated != created.json()["secret"]
    assert world.a.client("owner").get(f"/api/v1/webhooks/{endpoint_id}").status_code == 200
    assert client.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()


def test_operators_create_network_endpoints(world, public_dns):
    created = create_endpoint(world.a.client("owner"), "https://ops.example/in")
    assert created.status_code == 201 and created.json()["advertiser"] is None
    assert world.a.client("advertiser").get(f"/api/v1/webhooks/{created.json()['id']}").status_code == 404


def test_webhooks_404_across_networks_and_403_for_affiliates(world, public_dns, anon):
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                              url="https://a.test/", events=["*"])
    url = f"/api/v1/webhooks/{endpoint.pk}"
    for role in ("advertiser", "owner"):
        client = world.b.client(role)
        assert client.get(url).status_code == 404
        assert client.patch(url, {"events": ["*"]}, format="json").status_code == 404
        assert client.delete(url).status_code == 404
        assert client.post(f"{url}/test").status_code == 404
        assert client.post(f"{url}/rotate-secret").status_code == 404
    assert world.a.client("affiliate").get("/api/v1/webhooks").status_code == 403
    assert world.a.client("affiliate").post("/api/v1/webhooks", {}, format="json").status_code == 403
    assert anon.get("/api/v1/webhooks").status_code == 401
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).exists()


def test_deliveries_404_across_networks(world, anon):
    delivery = Delivery.objects.create(network=world.a.network, kind="webhook", event="payout.paid",
                                       advertiser=world.a.advertiser, url="https://a.test/", status="failed")
    for role in ("advertiser", "owner", "affiliate"):
        assert world.b.client(role).get(f"/api/v1/deliveries/{delivery.pk}").status_code == 404
        assert world.b.client(role).post(f"/api/v1/deliveries/{delivery.pk}/resend").status_code == 404
    assert anon.get("/api/v1/deliveries").status_code == 401
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_webhook_test_event(world, receiver, django_capture_on_commit_callbacks):
    created = create_endpoint(world.a.client("advertiser"), receiver.url, ["conversion.created"]).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = world.a.client("advertiser").post(f"/api/v1/webhooks/{created['id']}/test")
    assert response.status_code == 202
    assert json.loads(receiver.requests[0]["body"])["event"] == "webhook.test"
    assert verify_signature(created["secret"], receiver.requests[0]["headers"]["X-Signature"],
                            receiver.requests[0]["body"])


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "https://a.test/", "events": ["nope.event"]}, "events"),
    ({"url": "https://a.test/", "events": []}, "events"),
    ({"url": "ftp://a.test/", "events": ["*"]}, "url"),
    ({"url": "javascript:alert(1)", "events": ["*"]}, "url"),
])
def test_bad_webhook_input_is_400(world, public_dns, body, field):
    response = world.a.client("advertiser").post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert WebhookEndpoint.objects.count() == 0


# --- SSRF -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.1.1", "169.254.169.254", "224.0.0.1", "240.0.0.1",
    "0.0.0.0", "100.64.0.1", "::1", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::",
])
def test_private_and_special_addresses_are_refused_at_save_time(world, public_dns, address):
    public_dns["evil.test"] = address
    response = create_endpoint(world.a.client("advertiser"), "https://evil.test/hook")
    assert response.status_code == 400 and "Refused" in str(response.json()["url"])
    put = world.a.client("affiliate").put("/api/v1/postback", {"postback_url": "https://evil.test/pb"}, format="json")
    assert put.status_code == 400
    with pytest.raises(netguard.UnsafeURL):
        netguard.check_url(f"http://[{address}]/" if ":" in address else f"http://{address}/")


def test_the_setting_allows_private_targets(settings, public_dns):
    public_dns["dev.test"] = "127.0.0.1"
    with pytest.raises(netguard.UnsafeURL):
        netguard.check_url("http://dev.test/")
    settings.OUTBOUND_ALLOW_PRIVATE = True
    netguard.check_url("http://dev.test/")


def test_a_name_that_rebinds_to_a_private_address_is_refused_at_send_time(
    world, public_dns, django_capture_on_commit_callbacks
):
    created = create_endpoint(world.a.client("advertiser"), "https://rebind.test/hook")
    assert created.status_code == 201
    public_dns["rebind.test"] = "127.0.0.1"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={}, advertiser_id=world.a.advertiser.pk)
    delivery = Delivery.objects.get()
    # Not retried: the address will not become public by waiting.
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, None)
    assert "Refused" in delivery.last_error


def test_admin_lists_deliveries_of_own_networks_and_resends(world, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission
    from django.test import Client

    user = world.a.owner.user
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="tracking"))
    client = Client()
    client.force_login(user)
    mine = Delivery.objects.create(network=world.a.network, kind="webhook", event="payout.paid",
                                   url="https://mine.test/", status="failed")
    Delivery.objects.create(network=world.b.network, kind="webhook", event="payout.paid", url="https://theirs.test/")
    page = client.get("/admin/tracking/delivery/")
    assert page.status_code == 200 and b"mine.test" in page.content and b"theirs.test" not in page.content
    assert client.get(f"/admin/tracking/delivery/{mine.pk}/change/").status_code == 200
    assert client.get("/admin/tracking/webhookendpoint/").status_code == 200
    assert client.get("/admin/tracking/conversion/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/admin/tracking/delivery/", {"action": "resend", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "pending"


def test_nothing_is_sent_to_a_disabled_or_deleted_endpoint(world, receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, url=receiver.url, events=["*"])
    with transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={})
    endpoint.is_active = False
    endpoint.save()
    from tracking.tasks_outbound import delivery_send

    delivery = Delivery.objects.get()
    delivery_send.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1) and "disabled" in delivery.last_error
    endpoint.delete()
    with django_capture_on_commit_callbacks(execute=True):
        world.a.client("owner").post(f"/api/v1/deliveries/{delivery.pk}/resend")
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2
    assert receiver.requests == []
