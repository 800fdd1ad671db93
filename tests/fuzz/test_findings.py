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
