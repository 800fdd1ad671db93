"""The operators' webhooks page: add a network-wide endpoint (https, the secret once), every event type offered,
"Every event" for `*`, deliveries, test (not to a disabled endpoint), enable/disable, resend, delete; another
network's endpoint answers 404; parties 403."""

import pytest

from tests.tracking.test_advertiser_pages import public_dns  # noqa: F401 (a fixture)
from tracking.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_operators_add_a_network_webhook_and_see_its_secret_once(world, web, settings, public_dns):  # noqa: F811
    settings.WEBHOOK_HTTPS_ONLY = True
    client = web("a", "owner")
    page = client.get("/operator/webhooks/").content.decode()
    assert "payout.paid" in page  # the operators' events are offered too
    response = client.post("/operator/webhooks/", {"url": "http://ops.example.test/in", "events": ["*"]})
    assert response.status_code == 400 and "Use an https:// URL" in response.content.decode()
    response = client.post("/operator/webhooks/", {"url": "https://ops.example.test/in", "events": ["*"]})
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert endpoint.advertiser is None and endpoint.events == ["*"]
    listing = client.get("/operator/webhooks/").content.decode()
    assert "<small>Every event</small>" in listing and endpoint.secret not in listing
    assert "The whole network" in listing


def test_test_enable_disable_resend_delete(world, web, public_dns):  # noqa: F811
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, url="https://ops.example.test/in",
                                              events=["*"])
    client = web("a", "staff")
    assert client.post(f"/operator/webhooks/{endpoint.pk}/test").status_code == 302
    delivery = Delivery.objects.get(endpoint=endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    page = client.get(f"/operator/webhooks/{endpoint.pk}/").content.decode()
    assert "webhook.test" in page[page.index('data-testid="deliveries"'):]
    client.post(f"/operator/webhooks/deliveries/{delivery.pk}/resend")
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    client.post(f"/operator/webhooks/{endpoint.pk}/disable")
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    response = client.post(f"/operator/webhooks/{endpoint.pk}/test", follow=True)
    assert "This webhook is disabled: enable it to send a test event." in response.content.decode()
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1
    client.post(f"/operator/webhooks/{endpoint.pk}/enable")
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    client.post(f"/operator/webhooks/{endpoint.pk}/delete")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_another_networks_webhook_is_404_and_parties_are_403(world, web):
    bravo = WebhookEndpoint.objects.create(network=world.b.network, url="https://bravo.test/in", events=["*"])
    client = web("a", "owner")
    assert client.get(f"/operator/webhooks/{bravo.pk}/").status_code == 404
    assert client.post(f"/operator/webhooks/{bravo.pk}/delete").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=bravo.pk).exists()
    assert "bravo.test" not in client.get("/operator/webhooks/").content.decode()
    for role in ("advertiser", "affiliate"):
        assert web("a", role).get("/operator/webhooks/").status_code == 403
