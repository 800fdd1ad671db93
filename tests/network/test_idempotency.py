"""`Idempotency-Key` on API POSTs: a retry gets the first answer without a second write, within its scope (the
API key, or the signed-in member), for 24 hours; another request with the key is refused (422), a running one
too (409); 5xx answers are not kept."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone
from PIL import Image

from network import services as network_services
from network.idempotency import ABANDONED_AFTER, KEPT_FOR, idempotency_claim, request_fingerprint
from network.models import Advertiser, ApiKey, IdempotencyKey
from network.services import hash_api_key
from network.tasks import idempotency_keys_purge_task
from payouts.models import PayoutBatch
from programs.models import Creative
from tests.conftest import api_client
from tests.factories import make_conversion, make_program
from tests.tracking.conversions_support import click_at, make_shop
from tests.tracking.test_conversions_fast import no_connection_closing  # noqa: F401  (a fixture)
from tracking.api import ConversionViewSet
from tracking.models import Conversion

pytestmark = pytest.mark.django_db


def post(client, path, body=None, key="key-1"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(path, body if body is not None else {}, format="json", **headers)


def new_advertiser(client, name="Acme", key="key-1"):
    return post(client, "/api/v1/advertisers", {"name": name, "email": f"{name.lower()}@shop.test"}, key=key)


# --- replay ---------------------------------------------------------------------------------------
def test_a_retried_advertiser_create_answers_the_first_answer_and_writes_once(world):
    client = world.a.client("owner")
    first = new_advertiser(client)
    again = new_advertiser(client)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.json()["api_key"] == first.json()["api_key"]
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Advertiser.objects.for_network(world.a.network).filter(name="Acme").count() == 1
    assert IdempotencyKey.objects.get().status_code == 201


def test_without_the_header_posts_behave_as_before(world):
    client = world.a.client("owner")
    assert new_advertiser(client, key=None).status_code == 201
    assert new_advertiser(client, key=None).status_code == 400  # the e-mail is taken: a second write was tried
    assert not IdempotencyKey.objects.exists()


def test_a_retried_conversion_answers_its_first_201_and_records_one_sale(world, monkeypatch):
    shop = make_shop(world.a)
    click = click_at(shop.link)
    # A key used within the last minute: without the Idempotency-Key the fast path would answer.
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    calls = []
    create = ConversionViewSet.create
    monkeypatch.setattr(ConversionViewSet, "create",
                        lambda self, request: calls.append(1) or create(self, request))
    body = {"order_id": "IDEM-1", "amount": "100.00", "currency": "EUR", "click_id": click.click_id}
    client = world.a.client("advertiser")
    first = post(client, "/api/v1/conversions", body)
    again = post(client, "/api/v1/conversions", body)
    assert first.status_code == again.status_code == 201  # without the key a repeat answers 200
    assert again.json() == first.json()
    assert calls == [1]  # the full view ran once (the fast path leaves keyed requests to it), the replay not at all
    assert Conversion.objects.for_network(world.a.network).filter(order_id="IDEM-1").count() == 1


@pytest.mark.usefixtures("no_connection_closing")
def test_the_wsgi_fast_path_leaves_a_keyed_postback_to_the_idempotent_view(world, monkeypatch):
    from django.core.wsgi import get_wsgi_application

    from tracking.postback_fast import FastPostbackMiddleware

    make_shop(world.a)
    # A key used within the last minute: without the Idempotency-Key the fast path would answer.
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    application = FastPostbackMiddleware(get_wsgi_application())
    calls = []
    create = ConversionViewSet.create
    monkeypatch.setattr(ConversionViewSet, "create",
                        lambda self, request: calls.append(1) or create(self, request))

    def send(order_id, key):
        body = json.dumps({"order_id": order_id, "amount": "10.00", "currency": "EUR"}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/conversions", "QUERY_STRING": "",
                   "REMOTE_ADDR": "198.51.100.4", "SERVER_NAME": "testserver", "SERVER_PORT": "80",
                   "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                   "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/json",
                   "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {world.a.advertiser_key}"}
        if key:
            environ["HTTP_IDEMPOTENCY_KEY"] = key
        captured = {}

        def start_response(status, headers):
            captured["status"] = int(status[:3])

        content = b"".join(application(environ, start_response))
        return captured["status"], json.loads(content)

    assert send("FAST-1", None)[0] == 201 and calls == []  # the fast path answered
    first = send("W-1", "w-key")
    again = send("W-1", "w-key")
    assert first == again and first[0] == 201
    assert calls == [1]
    assert Conversion.objects.for_network(world.a.network).filter(order_id="W-1").count() == 1
    assert send("W-2", "w-key")[0] == 422  # the fast path never answers a keyed request, even a reused key


def test_a_retried_refund_reverses_once(world):
    shop = make_shop(world.a)
    conversion = make_conversion(world.a.advertiser, order_id="R-1", amount="100", link=shop.link)
    client = world.a.client("advertiser")
    url = f"/api/v1/conversions/{conversion.pk}/refund"
    first = post(client, url, {"amount": "10.00"})
    again = post(client, url, {"amount": "10.00"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and first.json()["refunded_amount"] == "10.00"
    conversion.refresh_from_db()
    assert conversion.refunded_amount == Decimal("10.00")
    # A new key is a new refund.
    assert post(client, url, {"amount": "10.00"}, key="key-2").json()["refunded_amount"] == "20.00"


def test_a_retried_payout_batch_runs_once(world, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = world.a.client("owner")
    first = post(client, "/api/v1/payout-batches")
    again = post(client, "/api/v1/payout-batches")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert PayoutBatch.objects.for_network(world.a.network).count() == 1


# --- another request, another scope -----------------------------------------------------------------
def test_the_same_key_with_another_body_or_path_answers_422(world):
    client = world.a.client("owner")
    assert new_advertiser(client, "Acme").status_code == 201
    other_body = new_advertiser(client, "Other")
    assert other_body.status_code == 422 and "another request" in other_body.json()["detail"]
    other_path = post(client, "/api/v1/affiliates", {"name": "Acme", "email": "acme@shop.test"})
    assert other_path.status_code == 422 and "detail" in other_path.json()
    assert not Advertiser.objects.for_network(world.a.network).filter(name="Other").exists()


def test_two_api_keys_use_the_same_key_independently(world):
    owner_membership = ApiKey.objects.get(hashed_key=hash_api_key(world.a.owner_key)).membership
    second_key = network_services.api_key_create(membership=owner_membership).raw
    assert new_advertiser(world.a.client("owner"), "Acme").status_code == 201
    assert new_advertiser(api_client(second_key), "Other").status_code == 201  # not a 422: its own key space
    assert new_advertiser(world.a.client("staff"), "Third").status_code == 201
    assert Advertiser.objects.for_network(world.a.network).filter(name__in=["Acme", "Other", "Third"]).count() == 3


def test_another_network_never_sees_the_key(world):
    first = new_advertiser(world.a.client("owner"), "Acme")
    other = new_advertiser(world.b.client("owner"), "Acme")
    assert first.status_code == other.status_code == 201
    assert not other.has_header("Idempotent-Replayed") and other.json()["id"] != first.json()["id"]
    assert Advertiser.objects.for_network(world.b.network).filter(name="Acme").count() == 1
    assert IdempotencyKey.objects.for_network(world.b.network).count() == 1


def test_a_signed_in_member_has_its_own_key_space(world, web):
    client = web("a", "owner")
    first = client.post("/api/v1/advertisers", {"name": "Acme", "email": "acme@shop.test"},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = client.post("/api/v1/advertisers", {"name": "Acme", "email": "acme@shop.test"},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    row = IdempotencyKey.objects.get()
    assert row.api_key is None and row.membership == world.a.owner
    # The member's API key is another scope.
    assert new_advertiser(world.a.client("owner"), "Bolt").status_code == 201


# --- running, failed, refused -------------------------------------------------------------------------
def _running(tenant, path, body, key="key-1", started=None):
    api_key = ApiKey.objects.select_related("membership").get(hashed_key=hash_api_key(tenant.owner_key))
    claim = idempotency_claim(network=tenant.network, membership=api_key.membership, api_key=api_key, key=key,
                              fingerprint=request_fingerprint("POST", path, json.dumps(body).encode()))
    if started is not None:
        IdempotencyKey.objects.filter(pk=claim.row.pk).update(created_at=started)
    return claim


def test_a_request_while_the_first_still_runs_answers_409(world):
    body = {"name": "Acme", "email": "acme@shop.test"}
    _running(world.a, "/api/v1/advertisers", body)
    client = world.a.client("owner")
    response = client.post("/api/v1/advertisers", json.dumps(body), content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 409 and "still being processed" in response.json()["detail"]
    assert not Advertiser.objects.for_network(world.a.network).filter(name="Acme").exists()


def test_a_first_request_that_never_answered_stops_blocking_its_key(world):
    body = {"name": "Acme", "email": "acme@shop.test"}
    _running(world.a, "/api/v1/advertisers", body, started=timezone.now() - ABANDONED_AFTER - timedelta(seconds=1))
    response = world.a.client("owner").post("/api/v1/advertisers", json.dumps(body),
                                            content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 201
    assert IdempotencyKey.objects.get().status_code == 201


def test_a_view_that_raises_keeps_nothing_and_the_retry_runs(world, monkeypatch):
    client = world.a.client("owner")
    client.raise_request_exception = False

    def broken(**kwargs):
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(network_services, "advertiser_create", broken)
        assert new_advertiser(client).status_code == 500
    assert not IdempotencyKey.objects.exists()
    retried = new_advertiser(client)
    assert retried.status_code == 201 and not retried.has_header("Idempotent-Replayed")
    assert Advertiser.objects.for_network(world.a.network).filter(name="Acme").count() == 1


def test_a_5xx_answer_is_not_kept(world, monkeypatch):
    client = world.a.client("owner")

    def busy(**kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(network_services, "advertiser_create", busy)
        assert new_advertiser(client).status_code == 503
    assert not IdempotencyKey.objects.exists()
    assert new_advertiser(client).status_code == 201


def test_a_4xx_answer_is_kept(world):
    client = world.a.client("owner")
    first = post(client, "/api/v1/advertisers", {"name": "Acme"})
    assert first.status_code == 400
    again = post(client, "/api/v1/advertisers", {"name": "Acme"})
    assert again.status_code == 400 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(("key", "expected"), [("k" * 256, 400), ("", 400), ("k" * 255, 201)])
def test_a_key_longer_than_255_characters_answers_400(world, key, expected):
    response = new_advertiser(world.a.client("owner"), key=key)
    assert response.status_code == expected
    if expected == 400:
        assert "255" in response.json()["detail"]
        assert not Advertiser.objects.for_network(world.a.network).filter(name="Acme").exists()


def test_an_unauthenticated_request_takes_no_key(anon, world):
    assert new_advertiser(anon).status_code == 401
    assert not IdempotencyKey.objects.exists()


# --- kept 24 hours ------------------------------------------------------------------------------------
def test_the_purge_task_deletes_keys_older_than_24_hours(world):
    client = world.a.client("owner")
    new_advertiser(client, "Acme", key="old")
    new_advertiser(client, "Bolt", key="new")
    new_advertiser(world.b.client("owner"), "Acme", key="old")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - KEPT_FOR - timedelta(minutes=1))
    assert idempotency_keys_purge_task.apply().get() == 2
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_an_expired_key_is_a_new_key(world):
    client = world.a.client("owner")
    new_advertiser(client, "Acme")
    IdempotencyKey.objects.update(created_at=timezone.now() - KEPT_FOR - timedelta(minutes=1))
    response = new_advertiser(client, "Bolt")  # another body: no 422 once the first use has expired
    assert response.status_code == 201
    assert IdempotencyKey.objects.get().fingerprint != ""


# --- documented ----------------------------------------------------------------------------------------
def test_the_schema_documents_the_header_on_every_api_post(anon):
    schema = anon.get("/api/schema/?format=json").json()
    posts = {path: item["post"] for path, item in schema["paths"].items() if "post" in item}
    assert "/api/v1/conversions/" in posts and "/api/v1/payout-batches/" in posts
    for path, operation in posts.items():
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        if path in ("/api/v1/stripe/webhook/", "/api/v1/integrations/stripe/{token}/webhook"):
            # Stripe's signed events: no API key to scope a key to; a repeated event id has one effect instead
            assert "Idempotency-Key" not in headers
            continue
        assert headers["Idempotency-Key"]["schema"]["maxLength"] == 255, path
        assert {"409", "422"} <= set(operation["responses"]), path
    gets = [item["get"] for item in schema["paths"].values() if "get" in item]
    assert not any(p["name"] == "Idempotency-Key" for op in gets for p in op.get("parameters", []))


def test_a_keyed_banner_upload_is_parsed_and_replayed(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    program = make_program(world.a.advertiser)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 250), (200, 80, 20)).save(buffer, format="PNG")

    def upload():
        image = SimpleUploadedFile("banner.png", buffer.getvalue(), content_type="image/png")
        return world.a.client("advertiser").post(
            "/api/v1/creatives", {"program": program.pk, "kind": "banner", "name": "Spring", "image": image},
            format="multipart", HTTP_IDEMPOTENCY_KEY="banner-1")

    first = upload()
    again = upload()
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Creative.objects.for_network(world.a.network).count() == 1


def test_a_keyed_body_over_the_upload_memory_limit_answers_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post(world.a.client("owner"), "/api/v1/advertisers", {"name": "A" * 200, "email": "a@shop.test"})
    assert response.status_code == 413 and "Idempotency-Key" in response.json()["detail"]
    assert not IdempotencyKey.objects.exists()
