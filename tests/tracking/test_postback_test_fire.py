"""The postback page's test fire: one attempt, answered on the page at once (code, time, the start of the body),
never queued nor retried; failures in plain words; the SSRF check still runs at send time."""

import socket
import ssl

import pytest

from tracking import netguard
from tracking.models import Delivery, DeliveryAttempt

URL = "https://93.184.215.14/pb?cid={click_id}&o={order_id}"


@pytest.fixture
def with_url(world):
    world.a.affiliate.postback_url = URL
    world.a.affiliate.save(update_fields=["postback_url"])
    return world.a.affiliate


@pytest.fixture
def calls(monkeypatch):
    """Replace the HTTP call: each test sets `calls.answer` (a Response or an exception to raise)."""
    class Calls(list):
        answer = None

    recorded = Calls()

    def fake_request(method, url, *, body=b"", headers=None, timeout=None):
        recorded.append((method, url, timeout))
        if isinstance(recorded.answer, BaseException):
            raise recorded.answer
        return recorded.answer

    monkeypatch.setattr(netguard, "request", fake_request)
    return recorded


def fire(web):
    response = web("a", "affiliate").post("/partner/postback/test")
    return response, response.content.decode()


def test_a_404_is_one_attempt_reported_at_once(world, web, with_url, calls):
    calls.answer = netguard.Response(404, b"<h1>Not Found</h1> no route " + b"x" * 1000, 37)
    response, _ = fire(web)
    assert response.status_code == 200
    assert len(calls) == 1 and calls[0][0] == "GET" and "o=TEST-ORDER" in calls[0][1], calls
    assert calls[0][2] <= 5
    html = response.content.decode()
    assert "Answer 404 in 37 ms" in html and "Not found: your receiver has no page at this URL" in html
    excerpt = response.context["test"]["excerpt"]
    assert excerpt.startswith("<h1>Not Found</h1>") and len(excerpt) == 200
    assert "&lt;h1&gt;Not Found&lt;/h1&gt;" in html  # escaped, never rendered as markup
    delivery = Delivery.objects.get(affiliate=world.a.affiliate)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 404)
    assert delivery.next_attempt_at is None
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_success_says_so(world, web, with_url, calls):
    calls.answer = netguard.Response(200, b"OK", 12)
    response, _ = fire(web)
    assert "Answer 200 in 12 ms" in response.content.decode() and response.context["test"]["ok"]
    assert Delivery.objects.get(affiliate=world.a.affiliate).status == "succeeded"


@pytest.mark.parametrize(("error", "words"), [
    (ConnectionRefusedError(111, "Connection refused"), "Connection refused: nothing accepts connections"),
    (TimeoutError("timed out"), "No answer: the request timed out after 5 s."),
    (ConnectionResetError(104, "reset"), "closed the connection before answering"),
    (ssl.SSLError(1, "WRONG_VERSION_NUMBER"), "TLS failure"),
    (OSError("HTTP error: BadStatusLine"), "not valid HTTP"),
])
def test_network_failures_are_told_in_plain_words(world, web, with_url, calls, error, words):
    calls.answer = error
    response, _ = fire(web)
    assert response.status_code == 200
    test = response.context["test"]
    assert test["status_code"] is None and not test["ok"] and words in test["words"]
    assert words in response.content.decode()
    delivery = Delivery.objects.get(affiliate=world.a.affiliate)
    assert (delivery.status, delivery.attempts) == ("failed", 1) and len(calls) == 1


@pytest.mark.parametrize("status_code, words", [(500, "Receiver error"), (401, "wants authentication"),
                                                (400, "rejected the request"), (302, "Redirect")])
def test_error_answers_are_told_in_plain_words(web, with_url, calls, status_code, words):
    calls.answer = netguard.Response(status_code, b"", 5)
    response, _ = fire(web)
    assert words in response.context["test"]["words"] and f"Answer {status_code}".encode() in response.content


def test_a_host_that_does_not_resolve_is_a_dns_failure(world, web, with_url, monkeypatch):
    world.a.affiliate.postback_url = "https://nowhere.invalid/pb"
    world.a.affiliate.save(update_fields=["postback_url"])

    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard.socket, "getaddrinfo", no_such_host)
    response, _ = fire(web)
    assert "DNS failure: the host “nowhere.invalid” does not resolve." in response.content.decode()


def test_the_ssrf_check_still_runs_at_send_time(world, web, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    world.a.affiliate.postback_url = "http://127.0.0.1:9/pb"  # saved around the form's check
    world.a.affiliate.save(update_fields=["postback_url"])
    response, _ = fire(web)
    assert response.status_code == 200 and "loopback address" in response.context["test"]["words"]
    assert Delivery.objects.get(affiliate=world.a.affiliate).last_status_code is None


def test_without_a_url_the_test_fire_says_so(web):
    response = web("a", "affiliate").post("/partner/postback/test")
    assert response.status_code == 400 and b"Set a postback URL first." in response.content
    assert not Delivery.objects.exists()


def test_the_test_fire_is_for_the_affiliate_itself(world, web, with_url, calls):
    calls.answer = netguard.Response(200, b"", 1)
    assert web("a", "advertiser").post("/partner/postback/test").status_code == 403
    assert web("b", "affiliate").post("/partner/postback/test").status_code == 400  # its own URL: none set
    assert web("a", "affiliate").get("/partner/postback/test").status_code == 405
    assert not calls
