"""SSRF: webhook and postback URLs to anything but a public http(s) address are refused when saved (400)
and again when sent (the delivery fails at once, and no connection is opened)."""

import ipaddress
import socket

import pytest
from django.db import transaction

from tracking import netguard
from tracking.models import Delivery, WebhookEndpoint
from tracking.outbound import delivery_attempt

PUBLIC_IP = "93.184.215.14"

PRIVATE_ADDRESSES = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
    "169.254.169.254", "100.64.0.1", "192.0.0.1", "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2002:a9fe:a9fe::1",
    "2001::1", "2001:db8::1", "100::1",
]
# Other spellings of 127.0.0.1 that the system resolver reads as IPv4 (no DNS involved).
NUMERIC_LOOPBACK = ["2130706433", "0x7f000001", "017700000001", "127.1", "0177.0.0.1", "0x7f.1", "0"]
BAD_SCHEMES = ["ftp://files.example.com/", "file:///etc/passwd", "gopher://example.com:70/_x",
               "dict://example.com:11211/stat", "ldap://example.com/", "javascript:alert(1)", "//example.com/x",
               "example.com/x", "http:///nohost", "https://"]


@pytest.fixture
def dns(monkeypatch):
    """Host names resolve to what the test sets (a public address by default); literals to themselves."""
    answers = {"default": [PUBLIC_IP]}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        try:
            return real(host, port, *args, flags=socket.AI_NUMERICHOST, **{k: v for k, v in kwargs.items()
                                                                          if k != "flags"})
        except socket.gaierror:
            pass
        infos = []
        for address in answers.get(host, answers["default"]):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            infos.append((family, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


@pytest.fixture
def connections(monkeypatch):
    """Every connection attempt is recorded and refused: a test can assert that none was made."""
    made = []

    def refuse(address, *args, **kwargs):
        made.append(address)
        raise ConnectionRefusedError("test: no connection allowed")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return made


def literal_url(address: str, path: str = "/hook") -> str:
    return f"http://[{address}]{path}" if ":" in address else f"http://{address}{path}"


def save_webhook(world, url):
    return world.a.client("advertiser").post("/api/v1/webhooks", {"url": url, "events": ["*"]}, format="json")


def save_postback(world, url):
    return world.a.client("affiliate").put("/api/v1/postback", {"postback_url": url}, format="json")


# --- save time -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("address", PRIVATE_ADDRESSES)
def test_private_literal_addresses_are_refused_at_save_time(world, dns, address):
    assert save_webhook(world, literal_url(address)).status_code == 400
    assert save_postback(world, literal_url(address, "/pb?cid={click_id}")).status_code == 400
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("address", PRIVATE_ADDRESSES)
def test_names_resolving_to_private_addresses_are_refused_at_save_time(world, dns, address):
    dns["hooks.evil.test"] = [address]
    response = save_webhook(world, "https://hooks.evil.test/hook")
    assert response.status_code == 400 and "url" in response.json()
    assert save_postback(world, "https://hooks.evil.test/pb").status_code == 400


def test_one_private_address_among_public_ones_is_enough_to_refuse(world, dns):
    dns["mixed.test"] = [PUBLIC_IP, "10.0.0.8"]
    assert save_webhook(world, "https://mixed.test/hook").status_code == 400


@pytest.mark.parametrize("host", NUMERIC_LOOPBACK)
def test_decimal_octal_and_hex_spellings_of_loopback_are_refused(world, dns, host):
    assert save_webhook(world, f"http://{host}/hook").status_code == 400
    assert save_postback(world, f"http://{host}/pb").status_code == 400
    with pytest.raises(netguard.UnsafeURL):
        netguard.check_url(f"http://{host}:8080/")


@pytest.mark.parametrize("url", BAD_SCHEMES)
def test_non_http_schemes_and_hostless_urls_are_refused(world, dns, url):
    assert save_webhook(world, url).status_code == 400
    assert save_postback(world, url).status_code == 400


@pytest.mark.parametrize("url", ["http://localhost/hook", "http://localhost.:8000/", "http://LOCALHOST/",
                                 "http://127.0.0.1.nip.io/"])
def test_names_of_this_machine_are_refused(world, dns, url):
    dns["localhost"] = dns["localhost."] = dns["127.0.0.1.nip.io"] = ["127.0.0.1"]
    assert save_webhook(world, url).status_code == 400


@pytest.mark.parametrize("url", ["http://hooks.example.com/a b", "http://hooks.example.com/a\r\nX-Injected: 1",
                                 "http://hooks.example.com/\x00", "http://hooks.example.com/\x7f"])
def test_postback_templates_with_spaces_or_control_characters_are_refused(world, dns, url):
    response = save_postback(world, url)
    assert response.status_code == 400 and "postback_url" in response.json()


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "::1", "10.0.0.1"])
def test_changing_a_saved_webhook_to_a_private_target_is_refused(world, dns, address):
    created = save_webhook(world, "https://hooks.example.com/hook")
    assert created.status_code == 201
    dns["inner.example.com"] = [address]
    client = world.a.client("advertiser")
    for url in (literal_url(address), "https://inner.example.com/hook"):
        response = client.patch(f"/api/v1/webhooks/{created.json()['id']}", {"url": url}, format="json")
        assert response.status_code == 400 and "url" in response.json()
    assert WebhookEndpoint.objects.get().url == "https://hooks.example.com/hook"


def test_public_targets_are_accepted(world, dns):
    assert save_webhook(world, "https://hooks.example.com/hook").status_code == 201
    assert save_postback(world, "https://tracker.example.com/pb?cid={click_id}").status_code == 200


# --- send time -----------------------------------------------------------------------------------------
def postback_delivery(world, url):
    return Delivery.objects.create(network=world.a.network, kind=Delivery.Kind.POSTBACK, event="conversion.created",
                                   affiliate=world.a.affiliate, url=url, method="GET")


@pytest.mark.parametrize("url", [literal_url(a) for a in PRIVATE_ADDRESSES[:12]]
                         + [f"http://{h}/pb" for h in NUMERIC_LOOPBACK] + BAD_SCHEMES[:4]
                         + ["http://hooks.example.com/a b"])
def test_stored_unsafe_postback_fails_at_send_time_without_a_connection(world, dns, connections, url):
    delivery = postback_delivery(world, url)
    attempt = delivery_attempt(delivery, final=False)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert attempt.retry_in_seconds is None and not attempt.succeeded and attempt.status_code is None
    assert delivery.last_error
    assert connections == []


def test_webhook_whose_name_rebinds_to_metadata_address_fails_without_a_connection(
    world, dns, connections, django_capture_on_commit_callbacks
):
    from tracking.outbound import event_emit

    assert save_webhook(world, "https://rebind.example.com/hook").status_code == 201
    dns["rebind.example.com"] = ["169.254.169.254"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="payout.paid", data={}, advertiser_id=world.a.advertiser.pk)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, None)
    assert "Refused" in delivery.last_error
    assert connections == []


def test_the_connection_goes_to_the_vetted_address_not_a_second_lookup(world, dns, connections):
    """DNS rebinding between the check and the connect: the socket opens to the address that was checked."""
    calls = {"n": 0}
    real = socket.getaddrinfo

    def flipping(host, port, *args, **kwargs):
        calls["n"] += 1
        if host == "flip.example.com":
            address = PUBLIC_IP if calls["n"] == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    socket.getaddrinfo = flipping
    try:
        delivery = postback_delivery(world, "http://flip.example.com/pb")
        delivery_attempt(delivery, final=True)
    finally:
        socket.getaddrinfo = real
    assert connections == [(PUBLIC_IP, 80)]
    assert calls["n"] == 1


def test_redirects_are_not_followed(world, settings):
    """A receiver that answers 302 to an internal address: the delivery records the 302 as a failure and the
    internal target is never called."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.tracking.conversions_support import Receiver

    settings.OUTBOUND_ALLOW_PRIVATE = True  # only to reach the two local test receivers
    internal = Receiver().start()
    hits = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the handler's protocol)
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", internal.url + "/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        delivery = postback_delivery(world, f"http://127.0.0.1:{server.server_address[1]}/pb")
        delivery_attempt(delivery, final=True)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.FAILED and delivery.last_status_code == 302
        assert hits == ["/pb"] and internal.requests == []
    finally:
        server.shutdown()
        server.server_close()
        internal.stop()


def test_address_rules_cover_embedded_ipv4():
    for address in ("2002:7f00:1::1", "::ffff:10.1.1.1", "64:ff9b::a9fe:a9fe", "fec0::1"):
        assert netguard._address_problem(address) is not None, address
    assert netguard._address_problem(PUBLIC_IP) is None
    assert netguard._address_problem("2606:4700:4700::1111") is None
    assert ipaddress.ip_address("2002:7f00:1::1").sixtofour == ipaddress.ip_address("127.0.0.1")
