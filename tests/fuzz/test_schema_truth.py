"""What schemathesis' positive/negative checks found (issue 16, part 5), pinned one request each: the schema and the
API say the same thing."""

import pytest

from core.filters import MAX_ID, REQUIRED_FOR_ROLES
from tests.fuzz.test_api_schema import _openapi
from tests.fuzz.world import offline_outbound

SCHEMA = _openapi()


def _parameter(path: str, method: str, name: str) -> dict:
    return next(p for p in SCHEMA["paths"][path][method]["parameters"] if p["name"] == name)


@pytest.mark.parametrize("path, name", [
    ("/api/v1/commissions/", "program"), ("/api/v1/commissions/", "affiliate"), ("/api/v1/programs/", "advertiser"),
    ("/api/v1/deliveries/", "endpoint"), ("/api/v1/balance/", "affiliate"), ("/api/v1/tax-details/", "affiliate"),
])
def test_id_parameters_are_documented_from_one_up(path, name):
    assert _parameter(path, "get", name)["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@pytest.mark.parametrize("value, status", [("0", 400), (str(MAX_ID), 200), (str(MAX_ID + 1), 400)])
def test_id_filters_take_what_the_schema_documents(world, value, status):
    response = world.a.client("owner").get("/api/v1/commissions/", {"program": value})
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == []


def test_a_foreign_key_filter_with_another_networks_id_finds_nothing_instead_of_refusing(world):
    from tests.factories import make_program

    make_program(world.a.advertiser)
    other = world.b.advertiser.pk
    for advertiser in (other, 10**12):
        response = world.a.client("owner").get("/api/v1/programs/", {"advertiser": advertiser})
        assert response.status_code == 200 and response.json()["results"] == []
    response = world.a.client("owner").get("/api/v1/programs/", {"advertiser": world.a.advertiser.pk})
    assert response.json()["count"] == 1


@pytest.mark.parametrize("url", ["/api/v1/balance/", "/api/v1/tax-details/", "/api/v1/tax-details/form/"])
def test_operators_affiliate_parameter_is_documented_as_required_for_them(world, url):
    parameter = _parameter(url, "get", "affiliate")
    assert parameter[REQUIRED_FOR_ROLES] == ["owner", "staff"] and "Required for owner and staff" in \
        parameter["description"]
    assert world.a.client("staff").get(url).status_code == 400
    assert world.a.client("affiliate").get(url).status_code in (200, 404)  # 404: no tax form uploaded


@pytest.mark.parametrize("body, field", [
    ({"name": 0, "email": "shop@new.test"}, "name"),
    ({"name": "Shop", "email": 12}, "email"),
    ({"name": ["Shop"], "email": "shop@new.test"}, "name"),
    ({"name": True, "email": "shop@new.test"}, "name"),
])
def test_text_fields_refuse_json_that_is_not_a_string(world, body, field):
    from network.models import Advertiser

    before = Advertiser.objects.count()
    response = world.a.client("owner").post("/api/v1/advertisers/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == ["Not a valid string."]
    assert Advertiser.objects.count() == before


def test_a_numeric_order_id_is_refused_not_turned_into_text(world):
    response = world.a.client("advertiser").post("/api/v1/conversions/", {"order_id": 123, "amount": "10.00",
                                                                           "currency": "EUR"}, format="json")
    assert response.status_code == 400 and response.json()["order_id"] == ["Not a valid string."]


@pytest.fixture
def offline():
    with offline_outbound():  # webhook URLs resolve through the SSRF guard, to a made-up public address
        yield


def test_put_replaces_a_webhook_and_needs_the_whole_body_while_patch_changes_part(world, offline):
    from tracking import services

    endpoint = services.webhook_endpoint_create(network=world.a.network, advertiser=world.a.advertiser,
                                                url="https://hooks.example.com/in", events=["conversion.created"])
    client = world.a.client("advertiser")
    response = client.put(f"/api/v1/webhooks/{endpoint.pk}/", {"description": "only this"}, format="json")
    assert response.status_code == 400 and {"url", "events"} <= set(response.json())
    endpoint.refresh_from_db()
    assert endpoint.description == ""
    response = client.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"description": "only this"}, format="json")
    assert response.status_code == 200 and response.json()["events"] == ["conversion.created"]
    response = client.put(f"/api/v1/webhooks/{endpoint.pk}/", {"url": "https://hooks.example.com/v2",
                                                                "events": ["*"]}, format="json")
    assert response.status_code == 200 and response.json()["url"] == "https://hooks.example.com/v2"


def test_webhook_events_are_documented_as_the_catalogue(world, offline):
    from tracking.outbound import EVENTS

    events = SCHEMA["components"]["schemas"]["WebhookEndpointRequest"]["properties"]["events"]["items"]
    enum = SCHEMA["components"]["schemas"][events["$ref"].rsplit("/", 1)[-1]]["enum"]
    assert enum == ["*", *EVENTS]
    response = world.a.client("advertiser").post("/api/v1/webhooks/", {"url": "https://hooks.example.com/in",
                                                                        "events": ["0"]}, format="json")
    assert response.status_code == 400 and "events" in response.json()


def test_stripe_onboarding_documents_its_503(world):
    assert "503" in SCHEMA["paths"]["/api/v1/payout-methods/stripe-onboarding/"]["post"]["responses"]
    response = world.a.client("affiliate").post("/api/v1/payout-methods/stripe-onboarding/", {"country": "DE"},
                                                format="json")
    assert response.status_code == 503 and "detail" in response.json()  # Stripe is not configured in tests


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("url", ["/api/v1/payout-methods/0.5/", "/api/v1/no-such-thing"])
def test_every_api_404_is_json_whatever_debug_says(world, settings, debug, url):
    settings.DEBUG = debug
    response = world.a.client("affiliate").get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}


def test_an_api_500_is_json_with_debug_on(world, settings, monkeypatch):
    from network import api

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    settings.DEBUG = True
    monkeypatch.setattr(api.MeView, "get", explode)
    client = world.a.client("owner")
    client.raise_request_exception = False
    response = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 500 and response.json() == {"detail": "Server error."}


def test_a_page_outside_the_api_keeps_its_html_404(anon, settings):
    settings.DEBUG = False
    response = anon.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_creates_link_to_their_objects_operations():
    links = SCHEMA["paths"]["/api/v1/webhooks/"]["post"]["responses"]["201"]["links"]
    assert links["v1_webhooks_retrieve"] == {"operationId": "v1_webhooks_retrieve",
                                             "parameters": {"id": "$response.body#/id"}}
    assert {"v1_webhooks_update", "v1_webhooks_partial_update", "v1_webhooks_destroy",
            "v1_webhooks_test_create"} <= set(links)
    listed = SCHEMA["paths"]["/api/v1/commissions/"]["get"]["responses"]["200"]["links"]
    assert listed["v1_commissions_approve_create"]["parameters"] == {"id": "$response.body#/results/0/id"}
