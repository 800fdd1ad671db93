"""Privacy: visitor and customer IP addresses are never stored raw. Clicks through the real redirect (socket
address and X-Forwarded-For, IPv4 and IPv6), conversions posted with a customer IP and by the pixel, the
queue drained; then every column of every table is searched for the addresses."""

import ipaddress
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.tracking import clicks_support
from tests.tracking.clicks_support import visit
from tests.tracking.test_ingest import stream  # noqa: F401  (a fixture)
from tracking.models import Click, Conversion

program, link, direct_clicks = clicks_support.program, clicks_support.link, clicks_support.direct_clicks

SOCKET_V4 = "198.51.100.213"
FORWARDED_V4 = "203.0.113.199"
SOCKET_V6 = "2001:db8:abcd:12::7b"
FORWARDED_V6 = "2001:db8:feed:beef::42"
CUSTOMER_V4 = "192.0.2.155"
PIXEL_V4 = "192.0.2.156"
LOGIN_V4 = "192.0.2.157"
RAW = [SOCKET_V4, FORWARDED_V4, SOCKET_V6, FORWARDED_V6, CUSTOMER_V4, PIXEL_V4, LOGIN_V4]


def spellings(address: str) -> set[str]:
    ip = ipaddress.ip_address(address)
    forms = {address, str(ip), ip.exploded}
    return forms | {form.upper() for form in forms}


def every_stored_text() -> dict[str, list[str]]:
    """Every value of every table (found by introspection, so partitions and tables without a model count
    too), as text; Django sessions are decoded, since their data is base64."""
    from django.contrib.sessions.backends.db import SessionStore

    found = {}
    quote_name = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor, include_views=False):
            cursor.execute(f"SELECT * FROM {quote_name(table)}")  # noqa: S608 (names from the introspection)
            columns = [column[0] for column in cursor.description]
            texts = []
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    texts.append(str(value))
                    if table == "django_session" and column == "session_data":
                        texts.append(str(SessionStore().decode(value)))
            found[table] = texts
    return found


def assert_no_raw_address_anywhere():
    stored = every_stored_text()
    assert "tracking_click" in stored and any(stored.values())
    leaks = [(table, address) for table, texts in stored.items() for address in RAW for text in texts
             if any(form in text for form in spellings(address))]
    assert leaks == []


def make_traffic(world, link, settings, monkeypatch):
    """Clicks from four addresses, a conversion with a customer IP, a pixel conversion, a web login."""
    from allauth.account.models import EmailAddress

    from tracking import tasks_outbound

    monkeypatch.setattr(tasks_outbound.delivery_send, "delay", lambda *args, **kwargs: None)  # no network
    world.a.affiliate.postback_url = "https://tracker.example.com/pb?cid={click_id}&ip={sub1}"
    world.a.affiliate.save()
    answers = [visit(f"/c/{link.code}", ip=SOCKET_V4), visit(f"/c/{link.code}", ip=SOCKET_V6)]
    settings.TRUSTED_PROXY_COUNT = 1
    answers += [visit(f"/c/{link.code}", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{FORWARDED_V4}"),
                visit(f"/c/{link.code}", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{FORWARDED_V6}")]
    settings.TRUSTED_PROXY_COUNT = 0
    assert all(answer.status == 302 for answer in answers)
    click_id = answers[0].params["click_id"]

    advertiser = world.a.client("advertiser")
    posted = advertiser.post("/api/v1/conversions", {"order_id": "PRIV-1", "amount": "80.00", "currency": "EUR",
                                                     "click_id": click_id, "customer_ip": CUSTOMER_V4},
                             format="json")
    assert posted.status_code == 201, posted.content
    token = advertiser.get("/api/v1/conversions/pixel-token").json()["token"]
    pixel = Client(REMOTE_ADDR=PIXEL_V4).get(
        f"/api/v1/conversions/pixel?token={quote(token)}&order_id=PRIV-2&amount=20.00&currency=EUR"
        f"&click_id={answers[1].params['click_id']}")
    assert pixel.status_code == 201

    user = world.a.owner.user
    user.set_password("privacy-pass-2026")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    web = Client(REMOTE_ADDR=LOGIN_V4)
    assert web.post("/accounts/login/", {"login": user.email, "password": "privacy-pass-2026"}).status_code == 302
    assert web.get("/operator/").status_code == 200
    return answers


@pytest.mark.usefixtures("direct_clicks")
def test_no_raw_ip_is_stored_anywhere_with_direct_writes(world, link, settings, monkeypatch):
    answers = make_traffic(world, link, settings, monkeypatch)
    assert Click.objects.count() == len(answers)
    assert Conversion.objects.filter(order_id__in=["PRIV-1", "PRIV-2"]).count() == 2
    assert Conversion.objects.get(order_id="PRIV-1").customer_ip_hash  # what is kept: a keyed hash
    assert set(Click.objects.values_list("ip_truncated", flat=True)) == {
        "198.51.100.0", "203.0.113.0", "2001:db8:abcd::", "2001:db8:feed::"}
    assert_no_raw_address_anywhere()


@pytest.mark.redis
def test_no_raw_ip_is_stored_anywhere_through_the_click_queue(world, link, settings, monkeypatch, stream):  # noqa: F811
    settings.CLICK_QUEUE_BUFFERED = False
    from tracking import clicks

    clicks.clear_local_cache()
    answers = [visit(f"/c/{link.code}", ip=SOCKET_V4), visit(f"/c/{link.code}", ip=SOCKET_V6)]
    payloads = b"".join(fields[b"d"] for _id, fields in stream.xrange(settings.CLICK_STREAM)).decode()
    assert payloads and not any(form in payloads for address in RAW for form in spellings(address))
    call_command("ingest_clicks", "--once")
    assert Click.objects.count() == len(answers)
    assert_no_raw_address_anywhere()


def test_the_scan_would_see_a_raw_address(world):
    """The scan itself works: an address written into a text column is found."""
    from network.services import audit_log_record

    audit_log_record(network=world.a.network, actor=None, action="test", data={"ip": SOCKET_V4})
    with pytest.raises(AssertionError, match="network_auditlog"):
        assert_no_raw_address_anywhere()
