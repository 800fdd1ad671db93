"""Events for integrators: the catalogue of event types, subscribing to each, the affiliate and partnership
events, and deliveries a Standard Webhooks library verifies."""

import json

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from network.models import PartyStatus
from network.services import party_set_status
from tests.factories import make_affiliate, make_program
from tracking.events import TYPES
from tracking.models import Delivery, WebhookEndpoint
from tracking.outbound import EVENTS, event_emit, verify_signature

from .conversions_support import click_at, make_shop, post_conversion
from .test_outbound import create_endpoint

pytestmark = pytest.mark.django_db
NEW_EVENTS = ("affiliate.created", "affiliate.approved", "partnership.approved", "partnership.rejected",
              "payout.paid", "payout.failed", "commission.adjusted")


def _endpoints(tenant, events=("*",)):
    """The tenant's operator endpoint and its advertiser's endpoint, both subscribed to `events`."""
    operators = WebhookEndpoint.objects.create(network=tenant.network, url="https://ops.test/in", events=list(events))
    advertiser = WebhookEndpoint.objects.create(network=tenant.network, advertiser=tenant.advertiser,
                                                url="https://shop.test/in", events=list(events))
    return operators, advertiser


def _delivered(endpoint, event):
    return [json.loads(d.body) for d in Delivery.objects.filter(endpoint=endpoint, event=event)]


# --- the catalogue -------------------------------------------------------------------------------------------
def test_every_role_reads_the_catalogue_of_every_event_with_a_description_and_an_example(world, anon):
    for role in ("owner", "staff", "advertiser", "affiliate"):
        response = world.a.client(role).get("/api/v1/webhook-events")
        assert response.status_code == 200
        rows = response.json()
        assert [row["type"] for row in rows] == list(EVENTS)
        assert set(NEW_EVENTS) <= {row["type"] for row in rows}
        for row in rows:
            assert row["description"] and row["audience"] in ("advertiser", "operators")
            example = row["example"]
            assert example["type"] == example["event"] == row["type"]
            assert {"id", "network", "created_at", "timestamp", "data"} <= set(example)
            assert example["data"], row["type"]
    assert anon.get("/api/v1/webhook-events").status_code in (401, 403)


def test_the_example_has_the_fields_a_real_delivery_of_that_type_carries(world, public_dns, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    monkeypatch.setattr("tracking.outbound._queue", lambda ids, networks: None)  # written, not sent
    operators, advertiser = _endpoints(world.a)
    examples = {row["type"]: row["example"] for row in world.a.client("owner").get("/api/v1/webhook-events").json()}
    shop = make_shop(world.a)
    with django_capture_on_commit_callbacks(execute=True):  # the commission is computed on commit
        post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id)
    make_affiliate(world.a.network, "New Blog", "new@alpha.test")
    for event in ("conversion.created", "commission.created", "affiliate.created"):
        [real] = _delivered(operators, event)
        assert set(real) == set(examples[event]), event
        assert set(real["data"]) == set(examples[event]["data"]), event


# --- subscribing ---------------------------------------------------------------------------------------------
def test_an_endpoint_may_subscribe_to_each_event_and_an_unknown_one_answers_400(world, public_dns):
    client = world.a.client("owner")
    for event in EVENTS:
        created = create_endpoint(client, "https://ops.example/in", [event])
        assert created.status_code == 201, (event, created.json())
        assert created.json()["events"] == [event]
    refused = create_endpoint(client, "https://ops.example/in", ["affiliate.deleted"])
    assert refused.status_code == 400 and "affiliate.deleted" in str(refused.json())
    endpoint = create_endpoint(world.a.client("advertiser"), "https://shop.example/in", ["conversion.created"]).json()
    patched = world.a.client("advertiser").patch(f"/api/v1/webhooks/{endpoint['id']}",
                                                 {"events": ["partnership.approved", "commission.adjusted"]},
                                                 format="json")
    assert patched.status_code == 200 and patched.json()["events"] == ["commission.adjusted", "partnership.approved"]
    assert world.a.client("advertiser").patch(f"/api/v1/webhooks/{endpoint['id']}", {"events": ["nope"]},
                                              format="json").status_code == 400


# --- affiliates ----------------------------------------------------------------------------------------------
def test_affiliate_created_reaches_the_operators_endpoints_of_its_network_only(world, public_dns):
    operators, advertiser = _endpoints(world.a)
    other_operators, _ = _endpoints(world.b)
    response = world.a.client("owner").post("/api/v1/affiliates", {"name": "Trail Blog", "email": "trail@x.test"},
                                            format="json")
    assert response.status_code == 201
    [body] = _delivered(operators, "affiliate.created")
    assert body["data"]["id"] == response.json()["id"] and body["data"]["email"] == "trail@x.test"
    assert body["network"] == world.a.network.pk and body["data"]["status"] == "active"
    assert _delivered(advertiser, "affiliate.created") == []  # an affiliate is the network's business
    assert not Delivery.objects.filter(network=world.b.network).exists()
    assert _delivered(other_operators, "affiliate.created") == []


def test_affiliate_approved_when_a_pending_affiliate_is_made_active(world, public_dns):
    operators, _ = _endpoints(world.a, ["affiliate.approved"])
    _endpoints(world.b)
    affiliate, _ = make_affiliate(world.a.network, "Pending Blog", "pending@alpha.test")
    affiliate.status = PartyStatus.PENDING
    affiliate.save(update_fields=["status"])
    assert world.a.client("owner").post(f"/api/v1/affiliates/{affiliate.pk}/activate").status_code == 200
    [body] = _delivered(operators, "affiliate.approved")
    assert body["data"]["id"] == affiliate.pk and body["data"]["status"] == "active"
    # Suspending and reactivating an affiliate that was approved before is not an approval.
    party_set_status(network=world.a.network, party=affiliate, status=PartyStatus.SUSPENDED, actor=None)
    party_set_status(network=world.a.network, party=affiliate, status=PartyStatus.ACTIVE, actor=None)
    assert len(_delivered(operators, "affiliate.approved")) == 1
    assert not Delivery.objects.filter(network=world.b.network).exists()


# --- partnerships --------------------------------------------------------------------------------------------
def test_partnership_approved_and_rejected_reach_the_programs_advertiser(world, public_dns):
    operators, advertiser = _endpoints(world.a, ["partnership.approved", "partnership.rejected"])
    _endpoints(world.b)
    program = make_program(world.a.advertiser, approval="manual")
    ids = {}
    for role in ("affiliate", "affiliate2"):
        applied = world.a.client(role).post(f"/api/v1/programs/{program.pk}/apply")
        assert applied.status_code in (200, 201) and applied.json()["status"] == "pending"
        ids[role] = applied.json()["id"]
    assert Delivery.objects.filter(event__startswith="partnership.").count() == 0  # pending: nothing decided
    client = world.a.client("advertiser")
    assert client.post(f"/api/v1/partnerships/{ids['affiliate']}/approve").status_code == 200
    assert client.post(f"/api/v1/partnerships/{ids['affiliate2']}/reject").status_code == 200
    for endpoint in (advertiser, operators):
        [approved] = _delivered(endpoint, "partnership.approved")
        [rejected] = _delivered(endpoint, "partnership.rejected")
        assert (approved["data"]["id"], approved["data"]["status"]) == (ids["affiliate"], "approved")
        assert (rejected["data"]["id"], rejected["data"]["affiliate"]) == (ids["affiliate2"], world.a.affiliate2.pk)
    assert not Delivery.objects.filter(network=world.b.network).exists()


def test_an_automatic_approval_is_a_partnership_approved_event_too(world, public_dns):
    _, advertiser = _endpoints(world.a, ["partnership.approved"])
    program = make_program(world.a.advertiser, approval="auto")
    applied = world.a.client("affiliate").post(f"/api/v1/programs/{program.pk}/apply").json()
    assert applied["status"] == "approved"
    [body] = _delivered(advertiser, "partnership.approved")
    assert body["data"]["id"] == applied["id"] and body["data"]["program"] == program.pk


def test_another_advertisers_endpoint_does_not_get_its_partnership_events(world, public_dns):
    from tests.factories import make_advertiser

    other, _ = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    theirs = WebhookEndpoint.objects.create(network=world.a.network, advertiser=other, url="https://o.test/",
                                            events=["*"])
    program = make_program(world.a.advertiser, approval="auto")
    world.a.client("affiliate").post(f"/api/v1/programs/{program.pk}/apply")
    assert _delivered(theirs, "partnership.approved") == []


# --- Standard Webhooks -----------------------------------------------------------------------------------------
def test_a_delivery_verifies_with_the_standard_webhooks_library_and_fails_when_tampered(
        world, receiver, django_capture_on_commit_callbacks):
    created = create_endpoint(world.a.client("owner"), receiver.url + "/hooks", ["affiliate.created"])
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        world.a.client("owner").post("/api/v1/affiliates", {"name": "Trail", "email": "trail@x.test"}, format="json")
    [request] = receiver.requests
    headers = {name.lower(): value for name, value in request["headers"].items()}
    payload = Webhook(secret).verify(request["body"], headers)
    assert payload["type"] == payload["event"] == "affiliate.created"
    assert payload["timestamp"] == payload["created_at"] and headers["webhook-id"] == payload["id"]
    assert verify_signature(secret, headers["x-signature"], request["body"])  # today's header is kept
    assert headers["x-signature"].startswith(f"t={headers['webhook-timestamp']},")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request["body"].replace(b"Trail", b"Trial"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(request["body"], headers)


def test_an_endpoint_with_a_secret_of_the_older_hex_form_verifies_too(world, receiver,
                                                                     django_capture_on_commit_callbacks):
    secret = "whsec_" + "0123456789abcdef" * 3  # as endpoints were issued before the Standard Webhooks headers
    WebhookEndpoint.objects.create(network=world.a.network, url=receiver.url + "/in", events=["*"], secret=secret)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(network_id=world.a.network.pk, event="webhook.test", data={"x": 1})
    [request] = receiver.requests
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert Webhook(secret).verify(request["body"], headers)["data"] == {"x": 1}
    assert verify_signature(secret, headers["x-signature"], request["body"])


def test_every_event_has_one_catalogue_entry():
    assert list(TYPES) == list(EVENTS)


def test_the_advertisers_webhook_form_offers_the_events_its_endpoint_receives(world, web):
    page = web("a", "advertiser").get("/advertiser/integration/").content.decode()
    for event in ("partnership.approved", "partnership.rejected", "commission.adjusted", "conversion.created"):
        assert f'value="{event}"' in page
    for event in ("affiliate.created", "affiliate.approved", "payout.paid"):  # the operators' only
        assert f'value="{event}"' not in page
