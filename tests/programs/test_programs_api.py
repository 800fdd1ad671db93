"""Programs API: create with rules, visibility per role, filters, PATCH, validation, the 404 across networks."""

from decimal import Decimal

import pytest

from commissions.rules import rule_for
from network.models import ApiKey, AuditLog, PartnerGroup
from network.services import hash_api_key
from programs.models import CommissionRule, Program
from tests.factories import make_advertiser, make_coupon, make_group, make_link, make_partnership, make_program

pytestmark = pytest.mark.django_db

PROGRAM = {
    "name": "Trail Gear",
    "landing_url": "https://shop.example.com/",
    "currency": "EUR",
    "allowed_domains": ["Blog.Example.com", "*.shop.example.com"],
    "approval": "manual",
    "hold_days": 14,
    "rules": [
        {"event": "sale", "kind": "percent", "payout": "10", "revenue": "12.5",
         "tiers": [{"min_conversions": 10, "payout": "12"}, {"min_conversions": 50, "payout": "15"}]},
        {"event": "lead", "kind": "fixed", "payout": "2.5", "revenue": "3"},
        {"event": "sale", "kind": "percent", "payout": "20", "group": "gold", "recurring_months": None},
    ],
}


def _network_of(client):
    raw = client._credentials.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    key = ApiKey.objects.filter(hashed_key=hash_api_key(raw)).first()
    return key.network if key else None


def _post(client, **overrides):
    body = {name: value for name, value in (PROGRAM | overrides).items() if value is not None}
    rules = body.get("rules")
    network = _network_of(client)
    if network and isinstance(rules, list) and any(isinstance(r, dict) and r.get("group") == "gold" for r in rules):
        # A rule names its partner group by id: the caller's network's group "gold".
        gold = PartnerGroup.objects.filter(network=network, name="gold").first() or make_group(network, "gold")
        body["rules"] = [rule | {"group": gold.pk} if rule.get("group") == "gold" else rule for rule in body["rules"]]
    return client.post("/api/v1/programs", body, format="json")


def test_advertiser_creates_a_program_with_rules(world):
    response = _post(world.a.client("advertiser"))
    assert response.status_code == 201, response.content
    body = response.json()
    program = Program.objects.get(pk=body["id"])
    assert program.advertiser == world.a.advertiser and program.network == world.a.network
    assert body["allowed_domains"] == ["blog.example.com", "*.shop.example.com"]
    assert body["hold_days"] == 14 and body["attribution_window_days"] == 30 and body["status"] == "active"
    sale, lead, gold = body["rules"]
    assert sale["payout"] == "10.00" and sale["revenue"] == "12.50" and sale["recurring_months"] == 0
    assert sale["tiers"] == [{"min_conversions": 10, "payout": "12.00"}, {"min_conversions": 50, "payout": "15.00"}]
    assert lead["payout"] == "2.50" and lead["revenue"] == "3.00" and lead["kind"] == "fixed"
    assert gold["group_name"] == "gold" and gold["recurring_months"] is None
    assert gold["group"] == PartnerGroup.objects.get(network=world.a.network, name="gold").pk
    assert program.rules.count() == 3
    assert AuditLog.objects.filter(network=world.a.network, action="program.created", target_id=str(program.pk))


def test_fixed_amounts_follow_the_currency_minor_units(world):
    response = _post(world.a.client("advertiser"), currency="JPY",
                     rules=[{"event": "lead", "kind": "fixed", "payout": "500", "revenue": 600}])
    assert response.status_code == 201, response.content
    rule = response.json()["rules"][0]
    assert (rule["payout"], rule["revenue"]) == ("500", "600")


def test_currency_defaults_to_the_networks(world):
    response = _post(world.a.client("advertiser"), currency=None)
    assert response.status_code == 201
    assert response.json()["currency"] == "EUR"


def test_operators_create_programs_for_a_named_advertiser(world):
    client = world.a.client("staff")
    assert _post(client).status_code == 400
    response = _post(client, advertiser=world.a.advertiser.pk)
    assert response.status_code == 201
    assert response.json()["advertiser"]["id"] == world.a.advertiser.pk
    foreign = _post(client, advertiser=world.b.advertiser.pk)
    assert foreign.status_code == 400 and "advertiser" in foreign.json()


def test_program_creation_roles(world, anon):
    assert _post(anon).status_code == 401
    assert _post(world.a.client("affiliate")).status_code == 403
    assert not Program.objects.exists()


def _rule(**fields):
    return {"event": "sale", "kind": "percent", "payout": "10"} | fields


@pytest.mark.parametrize(("overrides", "field"), [
    ({"rules": [_rule(payout="100.01")]}, "rules"),
    ({"rules": [_rule(payout="-1")]}, "rules"),
    ({"rules": [_rule(payout="10.005")]}, "rules"),
    ({"rules": [_rule(payout=10.5)]}, "rules"),
    ({"rules": [_rule(payout="ten")]}, "rules"),
    ({"rules": [_rule(payout="NaN")]}, "rules"),
    ({"rules": [_rule(kind="fixed", payout="-0.01")]}, "rules"),
    ({"rules": [_rule(kind="fixed", payout="1.001")]}, "rules"),
    ({"rules": [_rule(revenue="-5")]}, "rules"),
    ({"rules": [_rule(kind="bonus")]}, "rules"),
    ({"rules": [_rule(event="install")]}, "rules"),
    ({"rules": [_rule(event="click", kind="percent")]}, "rules"),
    ({"rules": [_rule(tiers=[{"min_conversions": 10, "payout": "12"}, {"min_conversions": 5, "payout": "15"}])]},
     "rules"),
    ({"rules": [_rule(tiers=[{"min_conversions": 5, "payout": "12"}, {"min_conversions": 5, "payout": "15"}])]},
     "rules"),
    ({"rules": [_rule(tiers=[{"min_conversions": -1, "payout": "12"}])]}, "rules"),
    ({"rules": [_rule(tiers=[{"min_conversions": 5, "payout": "120"}])]}, "rules"),
    ({"rules": [_rule(tiers=[{"min_conversions": 5}])]}, "rules"),
    ({"rules": [_rule(recurring_months=-1)]}, "rules"),
    ({"rules": [_rule(affiliate=1, group=1)]}, "rules"),
    ({"rules": [_rule(group="vip")]}, "rules"),
    ({"rules": [_rule(group=999_999)]}, "rules"),
    ({"rules": [_rule(affiliate=999_999)]}, "rules"),
    ({"rules": [_rule(), _rule(payout="12")]}, "rules"),
    ({"rules": []}, "rules"),
    ({"rules": "10%"}, "rules"),
    ({"currency": "EUX"}, "currency"),
    ({"currency": "eur"}, "currency"),
    ({"landing_url": "ftp://shop.example.com/"}, "landing_url"),
    ({"landing_url": "javascript:alert(1)"}, "landing_url"),
    ({"landing_url": "https://user:pw@shop.example.com/"}, "landing_url"),
    ({"fallback_url": "//evil.test"}, "fallback_url"),
    ({"allowed_domains": ["shop.test/path"]}, "allowed_domains"),
    ({"allowed_domains": ["user@evil.test"]}, "allowed_domains"),
    ({"allowed_domains": "shop.test"}, "allowed_domains"),
    ({"second_tier_percent": "150"}, "second_tier_percent"),
    ({"hold_days": 400}, "hold_days"),
    ({"attribution_window_days": 0}, "attribution_window_days"),
    ({"approval": "sometimes"}, "approval"),
    ({"name": ""}, "name"),
])
def test_invalid_programs_are_400_with_the_field_named(world, overrides, field):
    response = _post(world.a.client("advertiser"), **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Program.objects.exists() and not CommissionRule.objects.exists()


def test_rule_errors_point_at_the_rule_and_field(world):
    rules = [_rule(), _rule(event="lead", kind="fixed", payout="1.001")]
    response = _post(world.a.client("advertiser"), rules=rules)
    assert response.status_code == 400
    assert list(response.json()["rules"]) == ["1"]
    assert "payout" in response.json()["rules"]["1"]


def test_an_affiliate_rule_from_another_network_is_refused(world):
    response = _post(world.a.client("advertiser"), rules=[_rule(), _rule(affiliate=world.b.affiliate.pk)])
    assert response.status_code == 400
    assert "affiliate" in response.json()["rules"]["1"]
    ok = _post(world.a.client("advertiser"), rules=[_rule(), _rule(affiliate=world.a.affiliate.pk, payout="15")])
    assert ok.status_code == 201
    assert ok.json()["rules"][1]["affiliate"] == world.a.affiliate.pk


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_visibility_per_role(world):
    adv2, _ = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    public = make_program(world.a.advertiser, name="Public")
    paused = make_program(world.a.advertiser, name="Paused", status="paused")
    draft = make_program(world.a.advertiser, name="Draft", status="draft")
    invite = make_program(world.a.advertiser, name="Invite", visibility="invite")
    invited_in = make_program(adv2, name="Invited in", visibility="invite")
    paused_partner = make_program(adv2, name="Paused but partner", status="paused")
    make_partnership(invited_in, world.a.affiliate)
    make_partnership(paused_partner, world.a.affiliate)
    foreign = make_program(world.b.advertiser, name="Foreign")

    assert _ids(world.a.client("affiliate").get("/api/v1/programs")) == {public.pk, invited_in.pk, paused_partner.pk}
    assert _ids(world.a.client("affiliate2").get("/api/v1/programs")) == {public.pk}
    assert _ids(world.a.client("advertiser").get("/api/v1/programs")) == {public.pk, paused.pk, draft.pk, invite.pk}
    everything = {public.pk, paused.pk, draft.pk, invite.pk, invited_in.pk, paused_partner.pk}
    assert _ids(world.a.client("owner").get("/api/v1/programs")) == everything
    assert _ids(world.a.client("staff").get("/api/v1/programs")) == everything

    for role in ("owner", "advertiser", "affiliate"):
        assert world.a.client(role).get(f"/api/v1/programs/{foreign.pk}").status_code == 404
    assert world.a.client("affiliate2").get(f"/api/v1/programs/{invite.pk}").status_code == 404
    assert world.a.client("affiliate2").get(f"/api/v1/programs/{draft.pk}").status_code == 404
    assert world.a.client("affiliate").get(f"/api/v1/programs/{invited_in.pk}").json()["partnership"]["status"] == (
        "approved")


def test_list_requires_a_key(anon):
    assert anon.get("/api/v1/programs").status_code == 401


def test_affiliates_see_their_rules_without_revenue(world):
    gold = make_group(world.a.network, "gold", world.a.affiliate)
    silver = make_group(world.a.network, "silver", world.a.affiliate2)
    program = make_program(world.a.advertiser, rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("10"), "revenue": Decimal("12")},
        {"event": "sale", "kind": "percent", "payout": Decimal("14"), "group": gold},
        {"event": "sale", "kind": "percent", "payout": Decimal("16"), "group": silver},
        {"event": "sale", "kind": "percent", "payout": Decimal("18"), "affiliate": world.a.affiliate2},
    ])
    rules = world.a.client("affiliate").get(f"/api/v1/programs/{program.pk}").json()["rules"]
    assert [(r["payout"], r["revenue"]) for r in rules] == [("10.00", None), ("14.00", None)]
    rules = world.a.client("advertiser").get(f"/api/v1/programs/{program.pk}").json()["rules"]
    assert [r["payout"] for r in rules] == ["10.00", "14.00", "16.00", "18.00"] and rules[0]["revenue"] == "12.00"


def test_filters(world):
    make_program(world.a.advertiser, name="Summer Sale")
    make_program(world.a.advertiser, name="Winter Boots", status="paused")
    invite = make_program(world.a.advertiser, name="VIP", visibility="invite")
    client = world.a.client("owner")
    names = lambda r: {row["name"] for row in r.json()["results"]}  # noqa: E731
    assert names(client.get("/api/v1/programs?search=winter")) == {"Winter Boots"}
    assert names(client.get("/api/v1/programs?status=active")) == {"Summer Sale", "VIP"}
    assert names(client.get("/api/v1/programs?visibility=invite")) == {invite.name}
    assert names(client.get(f"/api/v1/programs?advertiser={world.a.advertiser.pk}")) == {
        "Summer Sale", "Winter Boots", "VIP"}
    assert client.get("/api/v1/programs?status=bogus").status_code == 400


def test_advertiser_updates_its_program_and_adds_a_rule(world):
    program = make_program(world.a.advertiser)
    response = world.a.client("advertiser").patch(
        f"/api/v1/programs/{program.pk}",
        {"status": "paused", "allowed_domains": ["*.Shop.Example.com"], "fallback_url": "https://shop.example.com/x",
         "rules": [{"event": "sale", "kind": "percent", "payout": "12.5"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "paused" and body["allowed_domains"] == ["*.shop.example.com"]
    assert [r["payout"] for r in body["rules"]] == ["10.00", "12.50"]
    assert rule_for(program=program, event="sale", affiliate=world.a.affiliate).payout == Decimal("12.5")
    log = AuditLog.objects.get(action="program.updated", target_id=str(program.pk))
    assert set(log.data["changed"]) == {"status", "allowed_domains", "fallback_url"} and log.data["rules_added"] == 1


def test_update_roles_and_the_404s(world, anon):
    program = make_program(world.a.advertiser)
    adv2, issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    from tests.conftest import api_client

    url = f"/api/v1/programs/{program.pk}"
    assert anon.patch(url, {"name": "x"}, format="json").status_code == 401
    assert world.a.client("affiliate").patch(url, {"name": "x"}, format="json").status_code == 403
    assert api_client(issued.raw).patch(url, {"name": "x"}, format="json").status_code == 404
    assert world.b.client("owner").patch(url, {"name": "x"}, format="json").status_code == 404
    assert world.a.client("staff").patch(url, {"name": "Renamed"}, format="json").status_code == 200
    program.refresh_from_db()
    assert program.name == "Renamed"
    assert world.a.client("advertiser").put(url, PROGRAM, format="json").status_code == 405


@pytest.mark.parametrize(("payload", "field"), [
    ({"currency": "USD"}, "currency"),
    ({"status": "gone"}, "status"),
    ({"allowed_domains": ["bad domain"]}, "allowed_domains"),
    ({"rules": [{"event": "sale", "kind": "percent", "payout": "101"}]}, "rules"),
    ({"advertiser": 1}, "advertiser"),
])
def test_invalid_updates_change_nothing(world, payload, field):
    program = make_program(world.a.advertiser)
    response = world.a.client("advertiser").patch(f"/api/v1/programs/{program.pk}", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    program.refresh_from_db()
    assert (program.currency, program.status, program.allowed_domains, program.rules.count()) == (
        "EUR", "active", ["shop.example.com"], 1)


def test_an_archived_program_is_final(world):
    program = make_program(world.a.advertiser, status="archived")
    response = world.a.client("advertiser").patch(f"/api/v1/programs/{program.pk}", {"status": "active"},
                                                  format="json")
    assert response.status_code == 400 and "archived" in str(response.json())
    program.refresh_from_db()
    assert program.status == "archived"


def test_out_of_range_ids_and_amounts_are_400_never_500(world):
    big = 10**20
    program = make_program(world.a.advertiser)
    make_partnership(program, world.a.affiliate)
    affiliate, advertiser = world.a.client("affiliate"), world.a.client("advertiser")
    assert affiliate.get(f"/api/v1/programs/{big}").status_code == 404
    assert affiliate.post("/api/v1/links", {"program": big}, format="json").status_code == 400
    assert affiliate.post("/api/v1/links", {"program": -1}, format="json").status_code == 400
    assert affiliate.get(f"/api/v1/creatives?link={big}").status_code == 400
    assert affiliate.get(f"/api/v1/links?program={big}").status_code in (200, 400)
    assert advertiser.post("/api/v1/coupons", {"partnership": big, "code": "ABCD"}, format="json").status_code == 400
    assert advertiser.post(f"/api/v1/programs/{program.pk}/invite", {"affiliate": big},
                           format="json").status_code == 400
    assert _post(advertiser, rules=[_rule(affiliate=big)]).status_code == 400
    too_large = _post(advertiser, rules=[_rule(kind="fixed", payout="1e30")])
    assert too_large.status_code == 400 and "payout" in too_large.json()["rules"]["0"]
    assert Program.objects.count() == 1


def test_lists_read_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for i in range(12):
        program = make_program(world.a.advertiser, name=f"P{i}", rules=[
            {"event": "sale", "kind": "percent", "payout": Decimal("10")},
            {"event": "lead", "kind": "fixed", "payout": Decimal("2")},
        ])
        partnership = make_partnership(program, world.a.affiliate, status="pending" if i % 2 else "approved")
        make_link(partnership, sub1=str(i))
        make_coupon(partnership, code=f"CODE{i}")
    for role in ("affiliate", "advertiser", "owner"):
        world.a.client(role).get("/api/v1/programs")  # warm the key's last-used stamp
        with django_assert_max_num_queries(8):
            assert world.a.client(role).get("/api/v1/programs").json()["count"] == 12
        with django_assert_max_num_queries(8):
            assert world.a.client(role).get("/api/v1/partnerships").json()["count"] == 12
        for path in ("/api/v1/links", "/api/v1/coupons"):
            with django_assert_max_num_queries(6):
                assert world.a.client(role).get(path).json()["count"] == 12
