"""The postback's fast path answers exactly like the full view, and hands everything unusual to it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from network.models import ApiKey
from network.services import hash_api_key
from programs.models import Program
from tracking.api import ConversionViewSet
from tracking.ids import new_click_id
from tracking.models import Conversion, Delivery, WebhookEndpoint
from tracking.signals import conversion_recorded

from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db
COMPARED = ("event", "amount", "refunded_amount", "currency", "status", "attribution", "attribution_pending",
            "program", "partnership", "affiliate", "link", "coupon", "click_id", "clicked_at", "sub1", "sub2",
            "sub3", "sub4", "sub5", "country", "customer_id", "items", "fraud_signals")


@pytest.fixture
def shop(world):
    shop = make_shop(world.a, fraud_policy=Program.FraudPolicy.HOLD)
    # A key used within the last minute: the full view need not record its use.
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    return shop


@pytest.mark.parametrize(("ago", "flags"), [(timedelta(minutes=5), {"is_unique": True}),
                                             (timedelta(seconds=2), {"is_bot": True, "is_unique": False})])
def test_fast_and_full_paths_record_the_same_conversion(world, shop, monkeypatch, ago, flags,
                                                        django_capture_on_commit_callbacks):
    click = click_at(shop.link, ago=ago, **flags)
    recorded = []
    receiver = lambda sender, conversion_id, **kwargs: recorded.append(conversion_id)  # noqa: E731
    conversion_recorded.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with monkeypatch.context() as patch:
                patch.setattr(ConversionViewSet, "create", lambda *a, **k: pytest.fail("full view used"))
                fast = post_conversion(world.a.client("advertiser"), order_id="FAST", click_id=click.click_id)
            Conversion.objects.filter(order_id="FAST").update(order_id="FAST-done", click_id="")
            full = post_conversion(world.a.client("advertiser"), order_id="FULL", click_id=click.click_id,
                                   items=[])  # `items` sends it down the full path
    finally:
        conversion_recorded.disconnect(receiver)
    assert (fast.status_code, full.status_code) == (201, 201)
    assert {k: fast.json()[k] for k in COMPARED} == {k: full.json()[k] for k in COMPARED}
    assert recorded == [fast.json()["id"], full.json()["id"]]
    stored = Conversion.objects.get(pk=fast.json()["id"])
    assert stored.amount == 100 and stored.fraud_signals == fast.json()["fraud_signals"]
    assert stored.created_at is not None and stored.clicked_at == click.created_at


def test_fast_path_flags_a_duplicate_order_and_follows_the_policy(world, shop, full_view_forbidden):
    click = click_at(shop.link)
    client = world.a.client("advertiser")
    first = post_conversion(client, order_id="A", click_id=click.click_id).json()
    second = post_conversion(client, order_id="B", click_id=click.click_id).json()
    assert first["fraud_signals"] == [] and first["status"] == "accepted"
    assert second["fraud_signals"] == ["duplicate_order"] and second["status"] == "held"


def test_fast_path_records_unattributed_sales_and_leads(world, shop, full_view_forbidden):
    client = world.a.client("advertiser")
    sale = post_conversion(client, order_id="S", amount=42, currency="eur").json()
    assert (sale["attribution"], sale["amount"], sale["currency"], sale["status"]) == ("none", "42.00", "EUR",
                                                                                       "accepted")
    lead = post_conversion(client, order_id="L", event="lead", amount="0").json()
    assert lead["event"] == "lead"


@pytest.mark.parametrize("body", [
    {"coupon": "X"}, {"customer_id": "c"}, {"items": []}, {"amount": 1.5}, {"amount": "-1"}, {"currency": "XYZ"},
    {"click_id": "bad"}, {"order_id": " padded "}, {"event": "refund"},
])
def test_anything_unusual_goes_to_the_full_view(world, shop, full_view_calls, body):
    post_conversion(world.a.client("advertiser"), **body)
    assert len(full_view_calls) == 1


def test_repeats_foreign_clicks_pending_clicks_and_wrong_currencies_go_to_the_full_view(world, shop, full_view_calls):
    client = world.a.client("advertiser")
    first = post_conversion(client, order_id="R")
    again = post_conversion(client, order_id="R")
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 200, first.json()["id"])
    b_click = click_at(make_shop(world.b).link)
    assert post_conversion(client, order_id="F", click_id=b_click.click_id).json()["attribution"] == "none"
    assert post_conversion(client, order_id="P", click_id=new_click_id()).json()["attribution_pending"] is True
    assert post_conversion(client, order_id="C", click_id=click_at(shop.link).click_id,
                           currency="USD").status_code == 400
    assert full_view_calls == ["R", "F", "P", "C"]


def test_webhooks_go_through_the_full_view_and_affiliate_postbacks_stay_on_the_fast_path(
    world, shop, full_view_calls, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(network=world.a.network, url="https://ops.example/", events=["*"])
    post_conversion(world.a.client("advertiser"), order_id="W")
    assert full_view_calls == ["W"] and Delivery.objects.count() == 1
    WebhookEndpoint.objects.all().delete()
    world.a.affiliate.postback_url = "https://t.example/pb?c={click_id}"
    world.a.affiliate.save()
    with django_capture_on_commit_callbacks(execute=True):
        post_conversion(world.a.client("advertiser"), order_id="PB", click_id=click_at(shop.link).click_id)
    # The conversion itself queues nothing for the affiliate, so the fast path serves it; the affiliate's one
    # postback for the sale comes from the commission it earned.
    assert full_view_calls == ["W"] and Delivery.objects.filter(kind="postback").count() == 1


def test_keys_are_checked_on_the_fast_path_too(world, shop, anon):
    from tests.conftest import api_client

    key = ApiKey.objects.get(hashed_key=hash_api_key(world.a.advertiser_key))
    key.revoked_at = timezone.now()
    key.save()
    assert post_conversion(api_client(world.a.advertiser_key)).status_code == 401
    assert post_conversion(api_client("afk_unknown")).status_code == 401
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.affiliate_key)).update(last_used_at=timezone.now())
    assert post_conversion(world.a.client("affiliate")).status_code == 403
    assert post_conversion(anon).status_code == 401
    assert Conversion.objects.count() == 0


def wsgi_call(app, method, path, body=b"", key="", **extra):
    import io

    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {key}", **extra,
    }
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    answer["body"] = b"".join(app(environ, start_response))
    return answer


@pytest.fixture
def no_connection_closing(monkeypatch):
    """Keep the test's transaction open across WSGI calls, as Django's test client does."""
    import django.db
    from django.core import signals

    close = django.db.close_old_connections
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close)
    monkeypatch.setattr(django.db, "close_old_connections", lambda: None)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close)


def test_the_wsgi_middleware_serves_the_fast_path_and_passes_the_rest_on(world, shop, no_connection_closing):
    _wsgi_checks(world, shop)


def _wsgi_checks(world, shop):
    import json
    from unittest import mock

    from config.wsgi import application as app  # the production entry point has the fast path in front

    key = world.a.advertiser_key
    click = click_at(shop.link)
    body = json.dumps({"order_id": "W1", "amount": "10.00", "currency": "EUR", "click_id": click.click_id}).encode()
    with mock.patch("tracking.api.postback_fast") as django_view_path:
        fast = wsgi_call(app, "POST", "/api/v1/conversions", body, key)
    assert not django_view_path.called  # answered before Django's middleware and views
    assert fast["status"] == "201 Created" and json.loads(fast["body"])["attribution"] == "click"
    slow_body = json.dumps({"order_id": "W2", "amount": "10.00", "currency": "EUR", "items": []}).encode()
    slow = wsgi_call(app, "POST", "/api/v1/conversions", slow_body, key)
    assert slow["status"].startswith("201") and json.loads(slow["body"])["order_id"] == "W2"
    repeat = wsgi_call(app, "POST", "/api/v1/conversions/", body, key)
    assert repeat["status"].startswith("200") and json.loads(repeat["body"])["id"] == json.loads(fast["body"])["id"]
    listing = wsgi_call(app, "GET", "/api/v1/conversions", key=key)
    assert listing["status"].startswith("200") and json.loads(listing["body"])["count"] == 2
    bad_host = wsgi_call(app, "POST", "/api/v1/conversions", body.replace(b"W1", b"W3"), key, HTTP_HOST="evil.test")
    assert bad_host["status"].startswith("400")
    assert set(Conversion.objects.values_list("order_id", flat=True)) == {"W1", "W2"}


@pytest.mark.postgres
def test_postgresql_statements_are_prepared_once_per_connection(world, shop, no_connection_closing,
                                                                full_view_forbidden):
    import json

    from django.db import connection

    from config.wsgi import application as app

    def post(order_id):
        body = json.dumps({"order_id": order_id, "amount": "10.00", "currency": "EUR",
                           "click_id": click_at(shop.link).click_id}).encode()
        return wsgi_call(app, "POST", "/api/v1/conversions", body, world.a.advertiser_key)["status"]

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'afn_pb_%%' ORDER BY name")
            return [row[0] for row in cursor.fetchall()]

    assert post("P1") == "201 Created" and post("P2") == "201 Created"  # a second PREPARE would fail
    assert prepared() == ["afn_pb_click", "afn_pb_insert", "afn_pb_key", "afn_pb_party", "afn_pb_webhooks"]
    with connection.cursor() as cursor:  # as a new connection would be: nothing prepared on it
        cursor.execute("DEALLOCATE ALL")
    connection._afn_prepared_on = object()
    assert post("P3") == "201 Created"
    assert prepared() == ["afn_pb_click", "afn_pb_insert", "afn_pb_key", "afn_pb_party", "afn_pb_webhooks"]
    assert Conversion.objects.filter(order_id__in=["P1", "P2", "P3"], attribution="click").count() == 3


def test_a_database_error_before_the_middleware_hands_the_request_to_django(world, shop, no_connection_closing,
                                                                           monkeypatch):
    import json

    from django.db import OperationalError

    import tracking.postback_fast as fast
    from config.wsgi import application as app

    real, calls = fast.record_fast, []

    def broken_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(fast, "record_fast", broken_once)
    body = json.dumps({"order_id": "E1", "amount": "10.00", "currency": "EUR",
                       "click_id": click_at(shop.link).click_id}).encode()
    answer = wsgi_call(app, "POST", "/api/v1/conversions", body, world.a.advertiser_key)
    assert answer["status"].startswith("201") and json.loads(answer["body"])["order_id"] == "E1"
    assert len(calls) == 1  # the failed attempt; Django's entry point does not try the fast path a second time
    assert Conversion.objects.filter(order_id="E1").count() == 1


def test_the_fast_path_inside_a_transaction_leaves_the_connection_open(world, shop):
    """Without the test client's signal handling: the handler must not close a connection in a transaction."""
    import json

    from django.db import connection

    from config.wsgi import application as app

    body = json.dumps({"order_id": "T1", "amount": "10.00", "currency": "EUR",
                       "click_id": click_at(shop.link).click_id}).encode()
    assert connection.in_atomic_block  # the test's transaction
    assert wsgi_call(app, "POST", "/api/v1/conversions", body, world.a.advertiser_key)["status"] == "201 Created"
    assert connection.connection is not None and connection.in_atomic_block
    assert Conversion.objects.filter(order_id="T1").count() == 1  # the same connection, still usable


def test_the_key_row_is_read_once_for_a_burst_and_a_revocation_takes_effect_at_once(world, shop,
                                                                                  no_connection_closing):
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.wsgi import application as app
    from network.services import api_key_revoke

    def post(order_id):
        body = json.dumps({"order_id": order_id, "amount": "10.00", "currency": "EUR",
                           "click_id": click_at(shop.link).click_id}).encode()
        return wsgi_call(app, "POST", "/api/v1/conversions", body, world.a.advertiser_key)["status"]

    with CaptureQueriesContext(connection) as queries:
        assert [post(f"K{n}") for n in range(3)] == ["201 Created"] * 3
    key_reads = [q for q in queries.captured_queries if "network_apikey" in q["sql"] or "afn_pb_key" in q["sql"]]
    assert len(key_reads) == 1
    api_key_revoke(network=world.a.network, api_key=ApiKey.objects.get(hashed_key=hash_api_key(
        world.a.advertiser_key)))
    assert post("K-after-revocation").startswith("401")
    assert not Conversion.objects.filter(order_id="K-after-revocation").exists()
