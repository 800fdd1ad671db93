"""Tenancy API: roles, keys, the 404 across networks, bad input."""

import pytest

from network.models import Advertiser, Affiliate, ApiKey, AuditLog, Membership
from network.services import hash_api_key
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_fails(anon, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = anon.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_me_shows_network_role_and_party(world):
    body = world.a.client("affiliate").get("/api/v1/me").json()
    assert body["network"]["slug"] == "alpha"
    assert body["role"] == "affiliate"
    assert body["party"]["id"] == world.a.affiliate.pk
    assert body["party"]["type"] == "affiliate"

    owner = world.a.client("owner").get("/api/v1/me").json()
    assert owner["role"] == "owner" and owner["party"] is None


def test_missing_key_is_401_with_bearer_challenge(anon):
    response = anon.get("/api/v1/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_unknown_key_is_401(anon):
    response = api_client("afk_not_a_real_key").get("/api/v1/me")
    assert response.status_code == 401


def test_malformed_authorization_header_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer two words")
    assert anon.get("/api/v1/me").status_code == 401


def test_revoked_key_is_401(world):
    client = world.a.client("advertiser")
    key = ApiKey.objects.get(hashed_key=hash_api_key(world.a.advertiser_key))
    response = client.post(f"/api/v1/api-keys/{key.pk}/revoke")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get("/api/v1/me").status_code == 401
    assert AuditLog.objects.filter(action="api_key.revoked", target_id=str(key.pk)).exists()


def test_keys_are_stored_only_as_hashes(world):
    raw = world.a.owner_key
    key = ApiKey.objects.get(hashed_key=hash_api_key(raw))
    assert raw not in {key.hashed_key, key.prefix, key.name}
    assert raw.startswith(key.prefix)
    assert len(key.hashed_key) == 64
    for value in ApiKey.objects.values_list("hashed_key", "prefix", "name"):
        assert raw not in value


def test_key_use_records_last_used_time(world):
    key = ApiKey.objects.get(hashed_key=hash_api_key(world.a.affiliate_key))
    assert key.last_used_at is None
    world.a.client("affiliate").get("/api/v1/me")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_new_key_is_shown_once_and_works(world):
    client = world.a.client("affiliate")
    created = client.post("/api/v1/api-keys", {"name": "server"}, format="json")
    assert created.status_code == 201
    raw = created.json()["api_key"]
    assert raw.startswith(created.json()["prefix"])
    assert api_client(raw).get("/api/v1/me").status_code == 200
    listed = client.get("/api/v1/api-keys").json()
    assert all("api_key" not in row for row in listed["results"])
    assert {row["name"] for row in listed["results"]} == {"default", "server"}


def test_cannot_revoke_a_key_of_another_member_or_network(world):
    other = ApiKey.objects.get(hashed_key=hash_api_key(world.b.affiliate_key))
    same_network_other_member = ApiKey.objects.get(hashed_key=hash_api_key(world.a.affiliate2_key))
    client = world.a.client("affiliate")
    assert client.post(f"/api/v1/api-keys/{other.pk}/revoke").status_code == 404
    assert client.post(f"/api/v1/api-keys/{same_network_other_member.pk}/revoke").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_operators_create_advertisers_with_a_working_key(world, role):
    response = world.a.client(role).post(
        "/api/v1/advertisers", {"name": "Gadget Store", "email": "Ops@Gadget.test"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    advertiser = Advertiser.objects.get(pk=body["id"])
    assert advertiser.network_id == world.a.network.pk
    assert advertiser.email == "ops@gadget.test"
    me = api_client(body["api_key"]).get("/api/v1/me").json()
    assert me["role"] == "advertiser" and me["party"]["id"] == advertiser.pk


def test_operators_create_affiliates_with_referrer(world):
    response = world.a.client("owner").post(
        "/api/v1/affiliates",
        {"name": "Newcomer", "email": "new@aff.test", "referred_by": world.a.affiliate.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    affiliate = Affiliate.objects.get(pk=response.json()["id"])
    assert affiliate.referred_by == world.a.affiliate
    assert api_client(response.json()["api_key"]).get("/api/v1/me").json()["role"] == "affiliate"


def test_referrer_from_another_network_is_rejected(world):
    response = world.a.client("owner").post(
        "/api/v1/affiliates",
        {"name": "Newcomer", "email": "new@aff.test", "referred_by": world.b.affiliate.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "referred_by" in response.json()
    assert not Affiliate.objects.filter(email="new@aff.test").exists()


@pytest.mark.parametrize("role", ["advertiser", "affiliate"])
@pytest.mark.parametrize("path", ["/api/v1/advertisers", "/api/v1/affiliates"])
def test_parties_cannot_create_parties(world, role, path):
    response = world.a.client(role).post(path, {"name": "X", "email": "x@x.test"}, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()


def test_duplicate_email_in_network_is_400_and_writes_nothing(world):
    before = (Membership.objects.count(), Advertiser.objects.count())
    response = world.a.client("owner").post(
        "/api/v1/advertisers", {"name": "Dup", "email": world.a.affiliate.email}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()
    assert (Membership.objects.count(), Advertiser.objects.count()) == before


def test_same_person_may_join_another_network(world):
    response = world.b.client("owner").post(
        "/api/v1/affiliates", {"name": "Alpha Blog in Bravo", "email": world.a.affiliate.email}, format="json"
    )
    assert response.status_code == 201
    user = world.a.affiliate.membership.user
    assert set(user.memberships.values_list("network__slug", flat=True)) == {"alpha", "bravo"}


@pytest.mark.parametrize(
    "payload",
    [{}, {"name": "X"}, {"name": "X", "email": "not-an-email"}, {"name": "", "email": "a@b.test"}],
)
def test_invalid_party_fields_are_400_with_field_errors(world, payload):
    response = world.a.client("owner").post("/api/v1/affiliates", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"name", "email"} and response.json()


def test_malformed_json_is_400(world):
    response = world.a.client("owner").post(
        "/api/v1/advertisers", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_another_networks_party_answers_404(world):
    client = world.a.client("owner")
    assert client.get(f"/api/v1/advertisers/{world.b.advertiser.pk}").status_code == 404
    assert client.get(f"/api/v1/affiliates/{world.b.affiliate.pk}").status_code == 404
    assert client.post(f"/api/v1/affiliates/{world.b.affiliate.pk}/suspend").status_code == 404
    assert client.get(f"/api/v1/affiliates/{world.a.affiliate.pk}").status_code == 200


def test_lists_are_paginated_and_scoped(world):
    body = world.a.client("staff").get("/api/v1/affiliates").json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {world.a.affiliate.pk, world.a.affiliate2.pk}
    assert "next" in body and "previous" in body
    page = world.a.client("staff").get("/api/v1/affiliates?page_size=1").json()
    assert len(page["results"]) == 1 and page["next"]


def test_affiliate_sees_only_itself(world):
    body = world.a.client("affiliate").get("/api/v1/affiliates").json()
    assert [row["id"] for row in body["results"]] == [world.a.affiliate.pk]
    assert world.a.client("affiliate").get(f"/api/v1/affiliates/{world.a.affiliate2.pk}").status_code == 404


def test_suspending_an_affiliate_disables_its_keys(world):
    response = world.a.client("owner").post(f"/api/v1/affiliates/{world.a.affiliate.pk}/suspend")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert world.a.client("affiliate").get("/api/v1/me").status_code == 401
    world.a.client("owner").post(f"/api/v1/affiliates/{world.a.affiliate.pk}/activate")
    assert api_client(world.a.affiliate_key).get("/api/v1/me").status_code == 200


def test_announcements_reach_their_audience(world):
    owner = world.a.client("owner")
    assert owner.post("/api/v1/announcements", {"title": "New offer", "body": "Hi", "audience": "affiliates"},
                      format="json").status_code == 201
    assert owner.post("/api/v1/announcements", {"title": "Invoices", "body": "Hi", "audience": "advertisers"},
                      format="json").status_code == 201
    titles = [row["title"] for row in world.a.client("affiliate").get("/api/v1/announcements").json()["results"]]
    assert titles == ["New offer"]
    assert world.b.client("affiliate").get("/api/v1/announcements").json()["count"] == 0
    assert world.a.client("affiliate").post(
        "/api/v1/announcements", {"title": "x", "body": "y"}, format="json").status_code == 403


def test_unknown_api_path_is_json_404(world):
    response = world.a.client("owner").get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_schema_and_docs_are_served(anon):
    schema = anon.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me" in schema.content
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
