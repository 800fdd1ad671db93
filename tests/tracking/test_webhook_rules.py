"""Webhook endpoints: https only where WEBHOOK_HTTPS_ONLY is on (not the embedded default under DEBUG), on the page
and the API, with the reason next to the field; no test event to a disabled endpoint; "Every event" for `*`."""

import pytest

from tests.tracking.test_advertiser_pages import public_dns  # noqa: F401 (a fixture)
from tracking.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

HTTPS_WORDS = "Use an https:// URL"


@pytest.fixture
def https_only(settings):
    settings.WEBHOOK_HTTPS_ONLY = True


def test_the_page_refuses_an_http_webhook_with_the_reason_next_to_the_field(world, web, https_only, public_dns):  # noqa: F811
    client = web("a", "advertiser")
    response = client.post("/advertiser/integration/webhooks", {"url": "http://hooks.shop.test/in", "events": ["*"]})
    assert response.status_code == 400 and not WebhookEndpoint.objects.exists()
    page = response.content.decode()
    assert HTTPS_WORDS in page and 'class="errorlist' in page
    response = client.post("/advertiser/integration/webhooks", {"url": "https://hooks.shop.test/in", "events": ["*"]})
    assert response.status_code == 200 and WebhookEndpoint.objects.get().url == "https://hooks.shop.test/in"


@pytest.mark.parametrize("role", ["advertiser", "owner"])
def test_the_api_refuses_an_http_webhook_on_create_and_on_update(world, https_only, public_dns, role):  # noqa: F811
    client = world.a.client(role)
    response = client.post("/api/v1/webhooks", {"url": "http://hooks.shop.test/in", "events": ["*"]}, format="json")
    assert response.status_code == 400 and HTTPS_WORDS in response.json()["url"][0]
    response = client.post("/api/v1/webhooks", {"url": "https://hooks.shop.test/in", "events": ["*"]}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    response = client.patch(f"/api/v1/webhooks/{pk}", {"url": "http://hooks.shop.test/in"}, format="json")
    assert response.status_code == 400 and HTTPS_WORDS in response.json()["url"][0]
    assert WebhookEndpoint.objects.get(pk=pk).url == "https://hooks.shop.test/in"


def test_the_embedded_default_allows_http_to_try_a_local_receiver(world, settings, public_dns):  # noqa: F811
    settings.WEBHOOK_HTTPS_ONLY = False
    response = world.a.client("advertiser").post(
        "/api/v1/webhooks", {"url": "http://hooks.shop.test/in", "events": ["*"]}, format="json")
    assert response.status_code == 201


def test_no_test_event_to_a_disabled_endpoint_on_the_api(world, public_dns):  # noqa: F811
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                              url="https://hooks.shop.test/in", events=["*"], is_active=False)
    response = world.a.client("advertiser").post(f"/api/v1/webhooks/{endpoint.pk}/test")
    assert response.status_code == 400
    assert "disabled" in str(response.json()["detail"])
    assert not Delivery.objects.exists()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)
    assert world.a.client("advertiser").post(f"/api/v1/webhooks/{endpoint.pk}/test").status_code == 202
    assert Delivery.objects.get().event == "webhook.test"


def test_no_test_event_to_a_disabled_endpoint_on_the_page(world, web, public_dns):  # noqa: F811
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                              url="https://hooks.shop.test/in", events=["*"], is_active=False)
    client = web("a", "advertiser")
    page = client.get(f"/advertiser/integration/webhooks/{endpoint.pk}/").content.decode()
    assert "Send a test event" not in page and "Enable the webhook to send a test event." in page
    response = client.post(f"/advertiser/integration/webhooks/{endpoint.pk}/test", follow=True)
    assert response.status_code == 200 and not Delivery.objects.exists()
    assert "This webhook is disabled: enable it to send a test event." in response.content.decode()


def test_pages_say_every_event_instead_of_a_star(world, web, public_dns):  # noqa: F811
    every = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                           url="https://hooks.shop.test/all", events=["*"])
    WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                   url="https://hooks.shop.test/some", events=["conversion.created"])
    client = web("a", "advertiser")
    listing = client.get("/advertiser/integration/").content.decode()
    assert "<small>Every event</small>" in listing and "<small>conversion.created</small>" in listing
    assert "<small>*</small>" not in listing
    detail = client.get(f"/advertiser/integration/webhooks/{every.pk}/").content.decode()
    assert "Events: Every event" in detail and "Events: *" not in detail
