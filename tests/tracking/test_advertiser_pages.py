"""Advertiser conversions (filters, unattributed, fraud signals, refunds) and the integration page (postback
example, JS snippet, webhooks with their deliveries, test-fire, resend); 404s across advertisers and networks."""

import ipaddress
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.models import Commission
from tests.factories import make_conversion
from tests.pages import make_shop, sale, web_client
from tracking.models import Conversion, Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    return make_shop(world)


@pytest.fixture
def public_dns(monkeypatch):
    """Every host name resolves to a public address (webhook URLs are checked against private ones)."""

    def fake_getaddrinfo(host, port, *args, **kwargs):
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            address = "93.184.215.14"
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


# --- conversions ------------------------------------------------------------------------------------
def test_conversion_list_filters_and_shows_unattributed(world, web, shop):
    sale(world, shop, "ORD-100", "100.00")
    old, _ = sale(world, shop, "ORD-200", "20.00")
    Conversion.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=5))
    make_conversion(world.a.advertiser, order_id="LOST-1", amount="10.00")
    make_conversion(shop.rival, order_id="RIVAL-1", amount="10.00")
    client = web("a", "advertiser")
    page = client.get("/advertiser/conversions/").content.decode()
    assert all(order in page for order in ("ORD-100", "ORD-200", "LOST-1")) and "RIVAL-1" not in page
    assert "1 unattributed conversion" in page
    page = client.get("/advertiser/conversions/?attribution=none").content.decode()
    assert "LOST-1" in page and "ORD-100" not in page
    page = client.get("/advertiser/conversions/?order_id=ord-2").content.decode()
    assert "ORD-200" in page and "ORD-100" not in page
    day = (timezone.now() - timedelta(days=5)).date().isoformat()
    page = client.get(f"/advertiser/conversions/?date_to={day}&program={shop.program.pk}").content.decode()
    assert "ORD-200" in page and "ORD-100" not in page
    page = client.get("/advertiser/conversions/?status=rejected").content.decode()
    assert "No conversion matches" in page


def test_conversion_detail_shows_fraud_signals_and_commissions(world, web, shop):
    conversion, commission = sale(world, shop, "ORD-1", "80.00")
    Conversion.objects.filter(pk=conversion.pk).update(fraud_signals=["too_fast", "self_referral"])
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    signals = page[page.index('data-testid="fraud-signals"'):]
    assert "too_fast" in signals and "self_referral" in signals
    assert ">Too fast<" in signals and ">Self-referral<" in signals
    assert "The buyer matches the affiliate itself." in signals
    assert "€80.00" in page and "€8.00" in page and "Remaining to refund: €80.00" in page


def test_other_advertisers_and_networks_conversions_are_404(world, web, shop):
    rival = make_conversion(shop.rival, order_id="RIVAL-1", amount="10.00")
    bravo = make_conversion(world.b.advertiser, order_id="B-1", amount="10.00")
    client = web("a", "advertiser")
    for conversion in (rival, bravo):
        assert client.get(f"/advertiser/conversions/{conversion.pk}/").status_code == 404
        assert client.post(f"/advertiser/conversions/{conversion.pk}/", {"amount": "1"}).status_code == 404
        assert Conversion.objects.get(pk=conversion.pk).refunded_amount == 0


def test_partial_then_full_refund_and_errors_next_to_the_field(world, web, shop):
    conversion, commission = sale(world, shop, "ORD-1", "100.00")
    client = web("a", "advertiser")
    url = f"/advertiser/conversions/{conversion.pk}/"
    for amount, message in (("abc", "Enter an amount such as"), ("0", "Must be more than zero."),
                            ("150", "Larger than what remains to refund (€100.00)."),
                            ("1.001", "decimal")):
        response = client.post(url, {"amount": amount})
        assert response.status_code == 400 and message in response.content.decode(), amount
    assert Conversion.objects.get(pk=conversion.pk).refunded_amount == 0
    response = client.post(url, {"amount": "40.00"})
    assert response.status_code == 302
    assert Conversion.objects.get(pk=conversion.pk).refunded_amount == Decimal("40.00")
    assert Commission.objects.get(pk=commission.pk).reversed_amount == Decimal("4.00")
    client.post(url, {"amount": ""})
    assert Conversion.objects.get(pk=conversion.pk).refunded_amount == Decimal("100.00")
    assert "Fully refunded." in client.get(url).content.decode()


# --- integration ------------------------------------------------------------------------------------
def test_integration_page_fills_the_postback_example_and_snippet(world, web, shop):
    page = web("a", "advertiser").get("/advertiser/integration/").content.decode()
    example = page[page.index('data-testid="postback-example"'):]
    assert "curl -X POST http://testserver/api/v1/conversions" in example
    assert f'"program_id": {shop.program.pk}' in example and '"currency": "EUR"' in example
    assert "&lt;YOUR_API_KEY&gt;" in example
    assert 'http://testserver/static/js/track.js' in page and "AffiliateTracking.fillInputs()" in page
    assert "Create key" in page and "No webhook yet" in page
    assert web("a", "affiliate").get("/advertiser/integration/").status_code == 403


def test_api_keys_still_work_on_the_extended_page(world, web):
    response = web("a", "advertiser").post("/advertiser/integration/", {"name": "Shop server"})
    assert response.status_code == 200 and 'data-testid="issued-key"' in response.content.decode()


def test_webhook_create_shows_the_secret_once_and_rejects_bad_urls(world, web, shop, public_dns):
    client = web("a", "advertiser")
    response = client.post("/advertiser/integration/webhooks", {"url": "http://127.0.0.1/hook", "events": ["*"]})
    assert response.status_code == 400 and not WebhookEndpoint.objects.exists()
    assert 'class="errorlist' in response.content.decode()
    response = client.post("/advertiser/integration/webhooks", {"url": "https://hooks.shop.test/in", "events": []})
    assert response.status_code == 400 and "Subscribe to at least one event" in response.content.decode()
    response = client.post("/advertiser/integration/webhooks", {
        "url": "https://hooks.shop.test/in", "events": ["conversion.created", "commission.approved"]})
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert endpoint.advertiser == world.a.advertiser and endpoint.events == ["commission.approved",
                                                                             "conversion.created"]
    page = client.get("/advertiser/integration/").content.decode()
    assert "https://hooks.shop.test/in" in page and endpoint.secret not in page


def test_webhook_test_fire_deliveries_resend_disable_delete(world, web, shop, public_dns):
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                              url="https://hooks.shop.test/in", events=["*"])
    client = web("a", "advertiser")
    client.post(f"/advertiser/integration/webhooks/{endpoint.pk}/test")
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event == "webhook.test"
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=3, last_status_code=500,
                                                   last_latency_ms=42)
    page = client.get(f"/advertiser/integration/webhooks/{endpoint.pk}/").content.decode()
    deliveries = page[page.index('data-testid="deliveries"'):]
    assert "webhook.test" in deliveries and "<td>500</td>" in deliveries and "42 ms" in deliveries
    assert "<td>3</td>" in deliveries
    client.post(f"/advertiser/integration/deliveries/{delivery.pk}/resend")
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    client.post(f"/advertiser/integration/webhooks/{endpoint.pk}/disable")
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    client.post(f"/advertiser/integration/webhooks/{endpoint.pk}/delete")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_other_advertisers_and_networks_webhooks_are_404(world, web, shop):
    rival = WebhookEndpoint.objects.create(network=world.a.network, advertiser=shop.rival,
                                           url="https://rival.test/in", events=["*"])
    bravo = WebhookEndpoint.objects.create(network=world.b.network, advertiser=world.b.advertiser,
                                           url="https://bravo.test/in", events=["*"])
    rival_delivery = Delivery.objects.create(network=world.a.network, kind="webhook", event="webhook.test",
                                             endpoint=rival, advertiser=shop.rival, url=rival.url, status="failed")
    client = web("a", "advertiser")
    for endpoint in (rival, bravo):
        assert client.get(f"/advertiser/integration/webhooks/{endpoint.pk}/").status_code == 404
        assert client.post(f"/advertiser/integration/webhooks/{endpoint.pk}/delete").status_code == 404
    assert client.post(f"/advertiser/integration/deliveries/{rival_delivery.pk}/resend").status_code == 404
    assert WebhookEndpoint.objects.count() == 2 and Delivery.objects.get(pk=rival_delivery.pk).status == "failed"
    assert "rival.test" not in client.get("/advertiser/integration/").content.decode()


def test_csrf_is_enforced_on_the_refund_form(world, shop):
    conversion, _ = sale(world, shop, "ORD-1", "100.00")
    client = web_client(world.a.advertiser, enforce_csrf_checks=True)
    assert client.post(f"/advertiser/conversions/{conversion.pk}/", {"amount": "10"}).status_code == 403
    assert Conversion.objects.get(pk=conversion.pk).refunded_amount == 0
