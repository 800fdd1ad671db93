"""What the API fuzzer found, pinned one request each (the fuzz run draws examples; these always run)."""

import pytest

from tests.conftest import api_client

HUGE = "9" * 30


@pytest.mark.parametrize("role, url", [
    ("affiliate", "/api/v1/tax-details/"),
    ("owner", "/api/v1/tax-details/?affiliate=1"),
    ("affiliate", "/api/v1/postback"),
    ("owner", "/api/v1/reports/?format=csv&group_by=affiliate"),
])
def test_options_answers_json_metadata_on_every_kind_of_view(world, role, url):
    response = world.a.client(role).options(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "actions" not in response.json() and response.json()["name"]


@pytest.mark.parametrize("url", ["/api/v1/api-keys/null,null/revoke/", f"/api/v1/api-keys/{HUGE}/revoke/"])
def test_a_malformed_or_huge_path_id_is_not_found(world, url):
    response = world.a.client("owner").post(url)
    assert response.status_code == 404 and "detail" in response.json()


@pytest.mark.parametrize("query", [f"affiliate=-{HUGE}", "affiliate=1e308", "conversion=1.5", "program=0"])
def test_commission_id_filters_refuse_what_is_not_an_id(world, query):
    response = world.a.client("owner").get(f"/api/v1/commissions/?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {query.split("=")[0]}


@pytest.mark.parametrize("url", ["/api/v1/balance/", "/api/v1/tax-details/", "/api/v1/tax-details/form/"])
@pytest.mark.parametrize("value", ["\u00b2", HUGE * 200, "1.0", ""])
def test_operators_affiliate_parameter_refuses_what_is_not_an_id(world, url, value):
    response = world.a.client("staff").get(url, {"affiliate": value})
    assert response.status_code == 400
    assert response.json() == {"affiliate": ["An affiliate id is required."]}


def test_bulk_approve_refuses_ids_beyond_any_column(world):
    response = world.a.client("owner").post("/api/v1/commissions/bulk-approve/", {"ids": [1, int(HUGE)]},
                                            format="json")
    assert response.status_code == 400 and "ids" in response.json()


@pytest.mark.parametrize("size, status", [("abc", 400), ("0", 400), ("501", 400), (HUGE * 200, 400), ("1", 200)])
def test_page_size_is_a_whole_number_up_to_500(world, size, status):
    response = world.a.client("staff").get("/api/v1/affiliates/", {"page_size": size})
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"page_size": ["A whole number from 1 to 500."]}
    else:
        assert len(response.json()["results"]) == 1


def test_a_page_out_of_range_is_not_found(world):
    response = world.a.client("staff").get("/api/v1/affiliates/", {"page": HUGE})
    assert response.status_code == 404 and "detail" in response.json()


def test_an_announcement_without_audience_goes_to_affiliates(world):
    response = world.a.client("owner").post("/api/v1/announcements/", {"title": "0", "body": "0"}, format="json")
    assert response.status_code == 201
    assert response.json()["audience"] == "affiliates"


def test_min_conversions_beyond_the_column_is_a_field_error(world):
    body = {"name": "Tiered", "landing_url": "https://shop.example.com/", "currency": "EUR", "approval": "auto",
            "rules": [{"event": "sale", "kind": "fixed", "payout": "5",
                       "tiers": [{"min_conversions": int(HUGE), "payout": "6"}]}]}
    response = world.a.client("advertiser").post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400 and "rules" in response.json()


def test_stripe_webhook_refuses_garbage_without_a_signature(world, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    response = api_client().post("/api/v1/stripe/webhook/", b"\x00\xff not json", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


def test_schema_documents_the_error_answers_of_every_operation(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"Error", "FieldErrors"} <= set(schema["components"]["schemas"])
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if any(operation.get("security", [{}])):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    commission = schema["components"]["schemas"]["Commission"]
    assert "revenue" in commission["properties"] and "revenue" not in commission["required"]


# --- inputs that answered 500 (issue 13, part 5): a clear 4xx, nothing written, both postback paths alike ------
HUGE_AMOUNTS = ["1e30", "1E+26", "9" * 29]
DEEP_JSON = "[" * 1000 + "]" * 1000
FAR_CLICK_ID = "7ZZZZZZZZZ" + "0" * 16  # the format check passes; its time is in year 10889


@pytest.fixture
def shop(world):
    """A program of world.a's advertiser, its key used a moment ago (so the postback's fast path may answer)."""
    from django.utils import timezone

    from network.models import ApiKey
    from network.services import hash_api_key
    from tests.tracking.conversions_support import make_shop

    shop = make_shop(world.a)
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    return shop


def _postback(world, body, full: bool):
    """Both ways in: `items` sends the body down the full DRF view; without it the fast path sees it first."""
    import json

    body = {"order_id": "IN-1", "amount": "10.00", "currency": "EUR"} | body | ({"items": []} if full else {})
    return world.a.client("advertiser").post("/api/v1/conversions", json.dumps(body),
                                             content_type="application/json")


def _conversions() -> int:
    from tracking.models import Conversion

    return Conversion.objects.count()


@pytest.mark.parametrize("full", [False, True], ids=["fast", "full"])
@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
def test_a_huge_amount_on_the_postback_is_a_field_error(world, shop, amount, full):
    response = _postback(world, {"amount": amount}, full)
    assert response.status_code == 400
    assert response.json() == {"amount": ["The amount is too large: at most 12 digits before the decimal point."]}
    assert _conversions() == 0


@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
def test_a_huge_amount_on_the_pixel_is_400(world, shop, anon, amount):
    from tests.tracking.test_conversions_pixel import pixel_token

    response = anon.get("/api/v1/conversions/pixel", {"token": pixel_token(world.a), "order_id": "PX",
                                                      "amount": amount, "currency": "EUR"})
    assert response.status_code == 400 and response["Content-Type"] == "image/gif"
    assert _conversions() == 0


@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
def test_a_huge_refund_is_a_field_error(world, shop, amount):
    from tracking.models import Conversion

    conversion_id = _postback(world, {}, full=True).json()["id"]
    response = world.a.client("advertiser").post(f"/api/v1/conversions/{conversion_id}/refund", {"amount": amount},
                                                 format="json")
    assert response.status_code == 400 and list(response.json()) == ["amount"]
    assert Conversion.objects.get().refunded_amount == 0


@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
@pytest.mark.parametrize("body", [
    lambda a: {"thresholds": {"EUR": a}}, lambda a: {"fee": {"kind": "flat", "flat": {"EUR": a}}},
    lambda a: {"fee": {"kind": "percent", "percent": a}},
], ids=["threshold", "flat_fee", "percent_fee"])
def test_huge_payout_settings_are_field_errors(world, amount, body):
    response = world.a.client("owner").patch("/api/v1/payout-settings", body(amount), format="json")
    assert response.status_code == 400 and "Too large" in str(response.json())
    world.a.network.refresh_from_db()
    assert world.a.network.payout_settings == {}


def test_a_huge_threshold_on_the_payout_settings_page_is_a_field_error(world):
    from tests.pages import web_client

    response = web_client(world.a.owner).post("/operator/payouts/settings/", {
        "schedule_kind": "manual", "weekday": "0", "day": "1", "thresholds": "EUR 1e30", "fee_kind": "none",
        "fee_flat": "", "fee_percent": "0", "fee_paid_by": "affiliate"})
    assert response.status_code == 400 and b"Too large" in response.content
    world.a.network.refresh_from_db()
    assert world.a.network.payout_settings == {}


@pytest.mark.parametrize("url", ["/api/v1/conversions", "/api/v1/affiliates/", "/api/v1/programs/",
                                 "/api/v1/webhooks", "/api/v1/commissions/bulk-approve/"])
@pytest.mark.parametrize("role", [None, "owner", "advertiser"])
def test_deeply_nested_json_is_refused_before_and_after_authentication(world, shop, url, role):
    client = api_client() if role is None else world.a.client(role)
    response = client.post(url, DEEP_JSON, content_type="application/json")
    assert 400 <= response.status_code < 500 and "detail" in response.json()
    if role is not None and response.status_code == 400:
        assert response.json() == {"detail": "JSON nested deeper than 32 levels."}
    assert _conversions() == 0


def test_deeply_nested_json_in_a_field_is_refused(world, shop):
    response = _postback(world, {"items": [{"x": json_nest(100)}]}, full=False)
    assert response.status_code == 400 and response.json() == {"items": ["JSON nested deeper than 32 levels."]}
    assert _conversions() == 0


def json_nest(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("full", [False, True], ids=["fast", "full"])
def test_a_click_id_past_year_9999_is_a_field_error(world, shop, full):
    response = _postback(world, {"click_id": FAR_CLICK_ID}, full)
    assert response.status_code == 400 and list(response.json()) == ["click_id"]
    assert _conversions() == 0


@pytest.mark.parametrize("full", [False, True], ids=["fast", "full"])
@pytest.mark.parametrize("text, message", [("A\x00B", "Null characters are not allowed."),
                                           ("A\ud800B", "Surrogate characters are not allowed: U+D800.")],
                         ids=["nul", "surrogate"])
@pytest.mark.parametrize("field", ["order_id", "customer_id", "coupon"])
def test_nul_and_lone_surrogates_are_refused_by_both_postback_paths(world, shop, full, text, message, field):
    response = _postback(world, {field: text}, full)
    assert response.status_code == 400 and response.json() == {field: [message]}
    assert _conversions() == 0


@pytest.mark.parametrize("text", ["A\x00B", "A\ud800B"], ids=["nul", "surrogate"])
def test_nul_and_lone_surrogates_inside_json_values_and_keys_are_refused(world, shop, text):
    response = _postback(world, {"items": [{"sku": text}]}, full=False)
    assert response.status_code == 400 and list(response.json()) == ["items"]
    response = _postback(world, {"items": [{text: "1"}]}, full=False)
    assert response.status_code == 400 and list(response.json()) == ["items"]
    response = _postback(world, {text: "1"}, full=False)
    assert response.status_code == 400 and "detail" in response.json()
    assert _conversions() == 0


def test_a_nul_in_the_pixel_query_is_400(world, shop, anon):
    from tests.tracking.test_conversions_pixel import pixel_token

    response = anon.get("/api/v1/conversions/pixel", {"token": pixel_token(world.a), "order_id": "PX\x00",
                                                      "amount": "1", "currency": "EUR"})
    assert response.status_code == 400
    assert _conversions() == 0


def _json_operations() -> list[tuple[str, str]]:
    from tests.fuzz.test_api_schema import _openapi

    operations = []
    for path, item in _openapi()["paths"].items():
        for method, operation in item.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                operations.append((method, path.replace("{id}", "1")))
    return operations


@pytest.mark.parametrize("role", [None, "owner", "advertiser", "affiliate"])
def test_no_json_operation_breaks_on_deep_nesting_nul_or_lone_surrogates(world, shop, role):
    """Every operation of the schema that takes JSON, with and without a key: a 4xx and nothing written."""
    client = api_client() if role is None else world.a.client(role)
    operations = _json_operations()
    assert len(operations) > 20
    for body in (DEEP_JSON, '{"name": "A\\u0000", "url": "https://x.example/\\ud800"}', '{"\\u0000": 1}'):
        for method, path in operations:
            response = getattr(client, method)(path, body, content_type="application/json")
            assert 400 <= response.status_code < 500, (method, path, body[:20], response.status_code)
    assert _conversions() == 0
