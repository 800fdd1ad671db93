"""Partner groups: objects of the network (API and web), assignment one by one (PATCH an affiliate) and in bulk, the
group's rules applying from the affiliate's next conversion, and the explanation naming the group."""

from decimal import Decimal

import pytest

from network.models import Affiliate, AuditLog, PartnerGroup
from programs.models import CommissionRule
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_affiliate, make_group, make_link, make_partnership, make_program
from tests.pages import web_client

pytestmark = pytest.mark.django_db


def _group_of(affiliate):
    return Affiliate.objects.get(pk=affiliate.pk).group_id


# --- the API: groups ---------------------------------------------------------------------------------------------
def test_owner_creates_lists_renames_and_deletes_a_group(world):
    client = world.a.client("owner")
    response = client.post("/api/v1/partner-groups", {"name": "Gold", "description": "Top content sites"},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Gold" and body["description"] == "Top content sites" and body["affiliates"] == 0
    group = PartnerGroup.objects.get(pk=body["id"])
    assert group.network == world.a.network
    assert AuditLog.objects.filter(network=world.a.network, action="partner_group.created", target_id=str(group.pk))

    world.a.client("owner").post(f"/api/v1/partner-groups/{group.pk}/assign",
                                 {"affiliates": [world.a.affiliate.pk]}, format="json")
    listed = client.get("/api/v1/partner-groups").json()["results"]
    assert [(g["name"], g["affiliates"]) for g in listed] == [("Gold", 1)]

    response = client.patch(f"/api/v1/partner-groups/{group.pk}", {"name": "Platinum"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Platinum"
    assert response.json()["description"] == "Top content sites"

    assert client.delete(f"/api/v1/partner-groups/{group.pk}").status_code == 204
    assert not PartnerGroup.objects.filter(pk=group.pk).exists()
    assert _group_of(world.a.affiliate) is None  # the affiliate stays, in no group


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 61}, "name"),
    ({"name": "gold"}, "name"),  # taken (case-insensitively)
    ({"name": ["Gold"]}, "name"),
])
def test_bad_group_bodies_are_400_with_the_field_named(world, body, field):
    make_group(world.a.network, "Gold")
    response = world.a.client("owner").post("/api/v1/partner-groups", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert PartnerGroup.objects.filter(network=world.a.network).count() == 1


def test_the_same_name_may_exist_in_another_network(world):
    make_group(world.b.network, "Gold")
    assert world.a.client("owner").post("/api/v1/partner-groups", {"name": "Gold"}, format="json").status_code == 201


def test_another_networks_group_is_404_everywhere(world):
    other = make_group(world.b.network, "Gold", world.b.affiliate)
    client = world.a.client("owner")
    url = f"/api/v1/partner-groups/{other.pk}"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"name": "Mine"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    response = client.post(f"{url}/assign", {"affiliates": [world.a.affiliate.pk]}, format="json")
    assert response.status_code == 404
    assert client.get("/api/v1/partner-groups").json()["results"] == []
    other.refresh_from_db()
    assert other.name == "Gold" and _group_of(world.b.affiliate) == other.pk and _group_of(world.a.affiliate) is None


def test_roles_advertisers_read_and_assign_affiliates_do_neither(world):
    group = make_group(world.a.network, "Gold")
    advertiser, affiliate = world.a.client("advertiser"), world.a.client("affiliate")
    assert advertiser.get("/api/v1/partner-groups").status_code == 200
    assert advertiser.post("/api/v1/partner-groups", {"name": "Mine"}, format="json").status_code == 403
    assert advertiser.patch(f"/api/v1/partner-groups/{group.pk}", {"name": "X"}, format="json").status_code == 403
    assert advertiser.delete(f"/api/v1/partner-groups/{group.pk}").status_code == 403
    assert affiliate.get("/api/v1/partner-groups").status_code == 403
    assert affiliate.post(f"/api/v1/partner-groups/{group.pk}/assign", {"affiliates": [world.a.affiliate.pk]},
                          format="json").status_code == 403
    assert world.a.client("staff").post("/api/v1/partner-groups", {"name": "Silver"}, format="json").status_code == 201


def test_a_group_that_rules_target_cannot_be_deleted(world):
    group = make_group(world.a.network, "Gold", world.a.affiliate)
    make_program(world.a.advertiser, rules=[{"event": "sale", "kind": "percent", "payout": Decimal("15"),
                                             "group": group}])
    response = world.a.client("owner").delete(f"/api/v1/partner-groups/{group.pk}")
    assert response.status_code == 400 and "rules" in response.json()["detail"]
    assert PartnerGroup.objects.filter(pk=group.pk).exists() and _group_of(world.a.affiliate) == group.pk
    assert not AuditLog.objects.filter(action="partner_group.deleted").exists()


# --- the API: assignment -----------------------------------------------------------------------------------------
def test_patch_an_affiliate_moves_it_to_a_group_and_null_takes_it_out(world):
    group = make_group(world.a.network, "Gold")
    client = world.a.client("owner")
    url = f"/api/v1/affiliates/{world.a.affiliate.pk}"
    response = client.patch(url, {"group": group.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["group"] == group.pk and response.json()["group_name"] == "Gold"
    assert _group_of(world.a.affiliate) == group.pk
    assert client.get(url).json()["group_name"] == "Gold"
    assert [a["id"] for a in client.get(f"/api/v1/affiliates?group={group.pk}").json()["results"]] == [
        world.a.affiliate.pk]
    response = client.patch(url, {"group": None}, format="json")
    assert response.status_code == 200 and response.json()["group"] is None
    assert _group_of(world.a.affiliate) is None


@pytest.mark.parametrize("group", ["gold", -1, 0, 2**63, True, [1]])
def test_patch_with_a_bad_group_is_400_and_changes_nothing(world, group):
    mine = make_group(world.a.network, "Gold", world.a.affiliate)
    response = world.a.client("owner").patch(f"/api/v1/affiliates/{world.a.affiliate.pk}", {"group": group},
                                             format="json")
    assert response.status_code == 400 and "group" in response.json()
    assert _group_of(world.a.affiliate) == mine.pk


def test_patch_with_another_networks_group_is_400_and_another_networks_affiliate_404(world):
    mine, theirs = make_group(world.a.network, "Gold", world.a.affiliate), make_group(world.b.network, "Gold")
    client = world.a.client("owner")
    response = client.patch(f"/api/v1/affiliates/{world.a.affiliate.pk}", {"group": theirs.pk}, format="json")
    assert response.status_code == 400 and response.json() == {"group": ["Unknown partner group."]}
    assert _group_of(world.a.affiliate) == mine.pk
    response = client.patch(f"/api/v1/affiliates/{world.b.affiliate.pk}", {"group": mine.pk}, format="json")
    assert response.status_code == 404 and _group_of(world.b.affiliate) is None


def test_only_operators_patch_affiliates_and_put_stays_405(world):
    group = make_group(world.a.network, "Gold")
    url = f"/api/v1/affiliates/{world.a.affiliate.pk}"
    assert world.a.client("advertiser").patch(url, {"group": group.pk}, format="json").status_code == 403
    assert world.a.client("affiliate").patch(url, {"group": group.pk}, format="json").status_code == 403
    assert world.a.client("owner").put(url, {"group": group.pk}, format="json").status_code == 405
    assert _group_of(world.a.affiliate) is None


def test_affiliate_created_in_a_group(world):
    group = make_group(world.a.network, "Gold")
    client = world.a.client("owner")
    response = client.post("/api/v1/affiliates", {"name": "New", "email": "new@alpha.test", "group": group.pk},
                           format="json")
    assert response.status_code == 201 and _group_of(Affiliate(pk=response.json()["id"])) == group.pk
    theirs = make_group(world.b.network, "Silver")
    response = client.post("/api/v1/affiliates", {"name": "Other", "email": "other@alpha.test", "group": theirs.pk},
                           format="json")
    assert response.status_code == 400 and "group" in response.json()
    assert not Affiliate.objects.filter(email="other@alpha.test").exists()


def test_bulk_assignment_moves_every_affiliate_and_says_how_many_changed(world):
    gold, silver = make_group(world.a.network, "Gold"), make_group(world.a.network, "Silver", world.a.affiliate2)
    response = world.a.client("owner").post(f"/api/v1/partner-groups/{gold.pk}/assign",
                                            {"affiliates": [world.a.affiliate.pk, world.a.affiliate2.pk]},
                                            format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"group": gold.pk, "affiliates": [world.a.affiliate.pk, world.a.affiliate2.pk],
                               "changed": 2}
    assert _group_of(world.a.affiliate) == _group_of(world.a.affiliate2) == gold.pk
    assert not Affiliate.objects.filter(group=silver).exists()
    again = world.a.client("owner").post(f"/api/v1/partner-groups/{gold.pk}/assign",
                                         {"affiliates": [world.a.affiliate.pk]}, format="json")
    assert again.json()["changed"] == 0


@pytest.mark.parametrize("affiliates", ["b", [], ["x"], [0], [2**63]])
def test_bulk_assignment_with_bad_ids_is_400(world, affiliates):
    gold = make_group(world.a.network, "Gold")
    ids = [world.a.affiliate.pk, world.b.affiliate.pk] if affiliates == "b" else affiliates
    response = world.a.client("owner").post(f"/api/v1/partner-groups/{gold.pk}/assign", {"affiliates": ids},
                                            format="json")
    assert response.status_code == 400 and "affiliates" in response.json()
    assert not Affiliate.objects.filter(group=gold).exists()  # nothing changed, not even the known one


def test_an_advertiser_assigns_only_its_partners(world):
    gold = make_group(world.a.network, "Gold")
    program = make_program(world.a.advertiser)
    make_partnership(program, world.a.affiliate)
    client = world.a.client("advertiser")
    url = f"/api/v1/partner-groups/{gold.pk}/assign"
    response = client.post(url, {"affiliates": [world.a.affiliate.pk, world.a.affiliate2.pk]}, format="json")
    assert response.status_code == 400 and str(world.a.affiliate2.pk) in response.json()["affiliates"][0]
    assert _group_of(world.a.affiliate) is None
    assert client.post(url, {"affiliates": [world.a.affiliate.pk]}, format="json").status_code == 200
    assert _group_of(world.a.affiliate) == gold.pk


# --- rules: the group's rule from the next conversion, and the explanation ---------------------------------------
def test_a_group_rule_applies_from_the_next_conversion_and_the_explanation_names_the_group(world):
    gold = make_group(world.a.network, "Gold partners")
    program, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("10")},
        {"event": "sale", "kind": "percent", "payout": Decimal("15"), "group": gold},
    ])
    _, [before] = convert(world.a, link, "o-1", "100.00")
    assert before.amount == Decimal("10.00")
    response = world.a.client("owner").patch(f"/api/v1/affiliates/{world.a.affiliate.pk}", {"group": gold.pk},
                                             format="json")
    assert response.status_code == 200
    _, [after] = convert(world.a, link, "o-2", "100.00")
    assert after.amount == Decimal("15.00")
    before.refresh_from_db()
    assert before.amount == Decimal("10.00")  # the earlier conversion keeps what it earned
    rule = world.a.client("affiliate").get(f"/api/v1/commissions/{after.pk}").json()["explanation"]["rule"]
    assert rule["source"] == "group" and rule["group"] == "Gold partners" and "Gold partners" in rule["reason"]
    rule = world.a.client("advertiser").get(f"/api/v1/commissions/{before.pk}").json()["explanation"]["rule"]
    assert rule["source"] == "default"


def test_a_program_rule_for_a_group_of_another_network_is_400(world):
    theirs = make_group(world.b.network, "Gold")
    body = {"name": "P", "landing_url": "https://shop.example.com/", "rules": [
        {"event": "sale", "kind": "percent", "payout": "10"},
        {"event": "sale", "kind": "percent", "payout": "15", "group": theirs.pk}]}
    response = world.a.client("advertiser").post("/api/v1/programs", body, format="json")
    assert response.status_code == 400 and response.json()["rules"]["1"]["group"] == ["Unknown partner group."]
    assert not CommissionRule.objects.filter(network=world.a.network).exists()


def test_an_affiliate_sees_its_groups_rule_only(world):
    gold, silver = make_group(world.a.network, "Gold", world.a.affiliate), make_group(world.a.network, "Silver")
    program = make_program(world.a.advertiser, rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("10")},
        {"event": "sale", "kind": "percent", "payout": Decimal("15"), "group": gold},
        {"event": "sale", "kind": "percent", "payout": Decimal("20"), "group": silver},
    ])
    make_partnership(program, world.a.affiliate)
    rules = world.a.client("affiliate").get(f"/api/v1/programs/{program.pk}").json()["rules"]
    assert [(r["payout"], r["group_name"]) for r in rules] == [("10.00", None), ("15.00", "Gold")]


# --- web ---------------------------------------------------------------------------------------------------------
def test_operator_creates_a_group_and_assigns_ticked_affiliates_on_the_affiliates_page(world):
    client = web_client(world.a.owner)
    response = client.post("/operator/affiliates/", {"name": "Gold", "description": "Best"})
    assert response.status_code == 302
    gold = PartnerGroup.objects.get(network=world.a.network, name="Gold")
    page = client.get("/operator/affiliates/").content.decode()
    assert 'id="group-assign"' in page and f'value="{world.a.affiliate.pk}" form="group-assign"' in page
    response = client.post("/partner-groups/assign", {
        "group": gold.pk, "affiliates": [world.a.affiliate.pk, world.a.affiliate2.pk],
        "next": "/operator/affiliates/?status=active"})
    assert response.status_code == 302 and response["Location"] == "/operator/affiliates/?status=active"
    assert _group_of(world.a.affiliate) == _group_of(world.a.affiliate2) == gold.pk
    page = client.get(f"/operator/affiliates/?group={gold.pk}").content.decode()
    assert world.a.affiliate.name in page and "2 affiliates moved to “Gold”." in page


def test_operator_group_form_shows_errors_by_field(world):
    make_group(world.a.network, "Gold")
    response = web_client(world.a.owner).post("/operator/affiliates/", {"name": "gold"})
    assert response.status_code == 400
    assert "already has a partner group named" in response.content.decode()
    assert PartnerGroup.objects.filter(network=world.a.network).count() == 1


def test_web_assignment_refuses_others_groups_and_affiliates(world):
    mine, theirs = make_group(world.a.network, "Gold"), make_group(world.b.network, "Gold")
    client = web_client(world.a.owner)
    for data in ({"group": theirs.pk, "affiliates": [world.a.affiliate.pk]},
                 {"group": mine.pk, "affiliates": [world.a.affiliate.pk, world.b.affiliate.pk]},
                 {"group": mine.pk, "affiliates": ["x"]},
                 {"group": "x", "affiliates": [world.a.affiliate.pk]},
                 {"group": mine.pk}):
        response = client.post("/partner-groups/assign", data | {"next": "https://evil.test/"})
        assert response.status_code == 302 and response["Location"] == "/operator/"
    assert _group_of(world.a.affiliate) is None and _group_of(world.b.affiliate) is None


def test_advertiser_assigns_its_partners_from_the_partners_page(world):
    gold = make_group(world.a.network, "Gold")
    program = make_program(world.a.advertiser)
    make_link(make_partnership(program, world.a.affiliate))
    stranger, _ = make_affiliate(world.a.network, "Stranger", "stranger@alpha.test")
    client = web_client(world.a.advertiser)
    page = client.get("/advertiser/partners/").content.decode()
    assert 'id="group-assign"' in page and f'value="{world.a.affiliate.pk}" form="group-assign"' in page
    client.post("/partner-groups/assign", {"group": gold.pk, "affiliates": [world.a.affiliate.pk, stranger.pk],
                                           "next": "/advertiser/partners/"})
    assert _group_of(world.a.affiliate) is None and _group_of(stranger) is None
    response = client.post("/partner-groups/assign", {"group": gold.pk, "affiliates": [world.a.affiliate.pk],
                                                      "next": "/advertiser/partners/"})
    assert response["Location"] == "/advertiser/partners/" and _group_of(world.a.affiliate) == gold.pk
    assert "Gold" in client.get("/advertiser/partners/").content.decode()
    assert web_client(world.a.affiliate).post("/partner-groups/assign", {
        "group": gold.pk, "affiliates": [world.a.affiliate.pk]}).status_code == 403
