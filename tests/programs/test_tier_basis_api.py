"""Rules' tier_basis in the programs API: conversions (min_conversions) or sales amount (min_amount) per rule,
validated, shown, and the 404 for another network's program."""

import pytest

from programs.models import CommissionRule, Program

pytestmark = pytest.mark.django_db

PROGRAM = {"name": "Trail Gear", "landing_url": "https://shop.example.com/", "currency": "EUR",
           "rules": [{"event": "sale", "kind": "percent", "payout": "8", "tier_basis": "amount",
                      "tiers": [{"min_amount": "5000", "payout": "10"}, {"min_amount": "12500.50", "payout": "12"}]},
                     {"event": "lead", "kind": "fixed", "payout": "2", "tiers": [{"min_conversions": 10,
                                                                                  "payout": "3"}]}]}


def test_a_rule_reaches_tiers_by_sales_amount_or_by_conversions(world):
    response = world.a.client("advertiser").post("/api/v1/programs", PROGRAM, format="json")
    assert response.status_code == 201, response.content
    sale, lead = response.json()["rules"]
    assert sale["tier_basis"] == "amount"
    assert sale["tiers"] == [{"min_amount": "5000.00", "payout": "10.00"},
                             {"min_amount": "12500.50", "payout": "12.00"}]
    assert lead["tier_basis"] == "conversions" and lead["tiers"] == [{"min_conversions": 10, "payout": "3.00"}]
    rule = CommissionRule.objects.get(pk=sale["id"])
    assert rule.tier_basis == "amount" and rule.tiers[1] == {"min_amount": "12500.50", "payout": "12"}
    listed = world.a.client("affiliate").get("/api/v1/programs").json()
    assert any(r.get("tier_basis") == "amount" for p in listed["results"] for r in p["rules"])


@pytest.mark.parametrize(("rule", "message"), [
    ({"tier_basis": "amount", "tiers": [{"min_conversions": 10, "payout": "10"}]}, "Each tier needs min_amount"),
    ({"tier_basis": "conversions", "tiers": [{"min_amount": "100", "payout": "10"}]},
     "Each tier needs min_conversions"),
    ({"tier_basis": "amount", "tiers": [{"min_amount": "500", "payout": "10"}, {"min_amount": "100", "payout": "12"}]},
     "strictly ascending by min_amount"),
    ({"tier_basis": "amount", "tiers": [{"min_amount": "-1", "payout": "10"}]}, "zero or more"),
    ({"tier_basis": "amount", "tiers": [{"min_amount": "10.001", "payout": "10"}]}, "More decimal places than EUR"),
    ({"tier_basis": "amount", "tiers": [{"min_amount": 10.5, "payout": "10"}]}, "as a string or integer"),
    ({"tier_basis": "visits", "tiers": []}, "is not a valid choice"),
])
def test_bad_tier_basis_or_thresholds_are_field_errors(world, rule, message):
    body = PROGRAM | {"rules": [{"event": "sale", "kind": "percent", "payout": "8"} | rule]}
    response = world.a.client("advertiser").post("/api/v1/programs", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()["rules"])
    assert not Program.objects.filter(name="Trail Gear").exists()


def test_another_networks_program_answers_404_to_a_tier_basis_rule(world):
    response = world.a.client("advertiser").post("/api/v1/programs", PROGRAM, format="json")
    url = f"/api/v1/programs/{response.json()['id']}"
    rule = {"event": "sale", "kind": "percent", "payout": "9", "tier_basis": "amount",
            "tiers": [{"min_amount": "100", "payout": "11"}]}
    assert world.b.client("owner").patch(url, {"rules": [rule]}, format="json").status_code == 404
    assert world.b.client("affiliate").get(url).status_code == 404
    assert CommissionRule.objects.filter(program_id=response.json()["id"]).count() == 2
    assert world.a.client("advertiser").patch(url, {"rules": [rule]}, format="json").status_code == 200
    assert CommissionRule.objects.filter(program_id=response.json()["id"], tier_basis="amount").count() == 2
