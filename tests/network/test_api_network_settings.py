"""The network's `is_public` and an affiliate's `referral_code` in the API: operators read and change the network's
settings (`/api/v1/network`), an affiliate reads its own referral code, operators read every affiliate's."""

import pytest

from network.models import AuditLog, Network

pytestmark = pytest.mark.django_db


def test_operators_read_the_network_settings_with_is_public(world):
    Network.objects.filter(pk=world.a.network.pk).update(is_public=True)
    for role in ("owner", "staff"):
        response = world.a.client(role).get("/api/v1/network")
        assert response.status_code == 200, role
        body = response.json()
        assert (body["slug"], body["is_public"], body["affiliate_approval_required"]) == (
            "alpha", True, world.a.network.affiliate_approval_required)
    assert world.b.client("owner").get("/api/v1/network").json()["is_public"] is False


def test_only_operators_reach_the_network_settings(world):
    for role in ("advertiser", "affiliate"):
        assert world.a.client(role).get("/api/v1/network").status_code == 403, role
        assert world.a.client(role).patch("/api/v1/network", {"is_public": True}, format="json").status_code == 403


def test_an_operator_lists_the_network_on_the_home_page_through_the_api(world):
    response = world.a.client("owner").patch("/api/v1/network", {"is_public": True}, format="json")
    assert response.status_code == 200 and response.json()["is_public"] is True
    assert Network.objects.get(pk=world.a.network.pk).is_public
    assert not Network.objects.get(pk=world.b.network.pk).is_public
    log = AuditLog.objects.get(network=world.a.network, action="network.settings_changed")
    assert log.data == {"is_public": True}
    # The name and the slug are read-only here: sent, they change nothing.
    response = world.a.client("owner").patch("/api/v1/network", {"slug": "other", "is_public": False}, format="json")
    assert response.status_code == 200 and response.json()["slug"] == "alpha"
    assert Network.objects.get(pk=world.a.network.pk).slug == "alpha"


def test_a_bad_is_public_is_a_400(world):
    response = world.a.client("owner").patch("/api/v1/network", {"is_public": "maybe"}, format="json")
    assert response.status_code == 400 and "is_public" in response.json()


def test_me_shows_is_public_and_the_affiliates_referral_code(world):
    body = world.a.client("affiliate").get("/api/v1/me").json()
    assert body["network"]["is_public"] is False
    world.a.affiliate.refresh_from_db()
    assert body["party"]["referral_code"] == world.a.affiliate.referral_code
    assert "referral_code" not in world.a.client("advertiser").get("/api/v1/me").json()["party"]


def test_the_affiliate_reads_its_own_referral_code_and_the_operator_every_affiliates(world):
    world.a.affiliate.refresh_from_db()
    world.a.affiliate2.refresh_from_db()
    own = world.a.client("affiliate").get(f"/api/v1/affiliates/{world.a.affiliate.pk}").json()
    assert own["referral_code"] == world.a.affiliate.referral_code
    listed = {row["id"]: row["referral_code"] for row in world.a.client("owner").get("/api/v1/affiliates").json()[
        "results"]}
    assert listed == {world.a.affiliate.pk: world.a.affiliate.referral_code,
                      world.a.affiliate2.pk: world.a.affiliate2.referral_code}
    # Another affiliate's code is not the affiliate's to read; another network's affiliate is a 404.
    assert world.a.client("affiliate").get(f"/api/v1/affiliates/{world.a.affiliate2.pk}").status_code == 404
    assert world.a.client("owner").get(f"/api/v1/affiliates/{world.b.affiliate.pk}").status_code == 404


def test_the_schema_documents_is_public_and_referral_code(world):
    schema = world.a.client("owner").get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert "is_public" in components["NetworkSettings"]["properties"]
    assert "is_public" in components["Network"]["properties"]
    assert components["Affiliate"]["properties"]["referral_code"]["readOnly"] is True
    assert set(schema["paths"]["/api/v1/network/"]) >= {"get", "patch"}
