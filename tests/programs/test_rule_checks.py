"""Commission rules are checked by the service (programs.rule_checks via program_create/update), so the API, the
web form and any other caller get the same errors; the API's error bodies keep their shape."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.api import exception_handler
from programs import services
from programs.models import CommissionRule, Program
from programs.rule_checks import RuleErrors
from tests.factories import make_program

pytestmark = pytest.mark.django_db

BASE = {"name": "Trail Gear", "landing_url": "https://shop.example.com/", "currency": "EUR"}
OK = {"event": "sale", "kind": "percent", "payout": "10"}
CLICK_PERCENT = {"event": "click", "kind": "percent", "payout": "1"}


@pytest.mark.parametrize(("rules", "errors"), [
    ([OK | {"payout": "150"}], {"0": {"payout": ["A percent must be between 0 and 100."]}}),
    ([OK | {"revenue": "-2"}], {"0": {"revenue": ["Must be zero or more."]}}),
    ([OK | {"payout": "-1"}, CLICK_PERCENT], {"0": {"payout": ["Must be zero or more."]},
                                               "1": {"kind": ["A click has no order amount: click rules are fixed."]}}),
    ([OK | {"tiers": [{"min_conversions": 5, "payout": "101"}, {"min_conversions": 7, "payout": "-1"}]}],
     {"0": {"tiers": ["Tier 0: A percent must be between 0 and 100.", "Tier 1: Must be zero or more."]}}),
    ([OK | {"tier_basis": "amount", "tiers": [{"min_amount": "-5", "payout": "1"}]}],
     {"0": {"tiers": ["min_amount must be zero or more."]}}),
    ([OK, OK | {"affiliate": 999999}], {"1": {"affiliate": ["Unknown affiliate."]}}),
    ([OK, {"event": "lead", "kind": "fixed", "payout": "1.001", "revenue": "2.005"}],
     {"1": {"payout": ["More decimal places than EUR has."], "revenue": ["More decimal places than EUR has."]}}),
    ([OK, OK | {"payout": "11"}], ["Two rules for the event sale and the same target."]),
])
def test_the_api_reports_rule_errors_by_rule_and_field_on_create_and_edit(world, rules, errors):
    client = world.a.client("advertiser")
    created = client.post("/api/v1/programs", BASE | {"rules": rules}, format="json")
    assert created.status_code == 400 and created.json() == {"rules": errors}
    program = make_program(world.a.advertiser)
    before = CommissionRule.objects.filter(program=program).count()
    edited = client.patch(f"/api/v1/programs/{program.pk}", {"rules": rules}, format="json")
    assert edited.status_code == 400 and edited.json() == {"rules": errors}
    assert CommissionRule.objects.filter(program=program).count() == before
    assert not Program.objects.filter(name="Trail Gear").exists()


def test_program_and_rule_errors_come_in_one_answer(world):
    response = world.a.client("advertiser").post(
        "/api/v1/programs", BASE | {"landing_url": "ftp://x", "rules": [OK | {"payout": "-1"}]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"landing_url": ["landing_url must be an http(s) URL with a host and no credentials."],
                               "rules": {"0": {"payout": ["Must be zero or more."]}}}


def _create(world, rules, network=None):
    network = network or world.a.network
    return services.program_create(network=network, advertiser=world.a.advertiser, actor=None,
                                   name="Direct", landing_url="https://shop.example.com/", currency="EUR", rules=rules)


@pytest.mark.parametrize(("rules", "message"), [
    ([OK | {"payout": "150"}], "Rule 1, payout: A percent must be between 0 and 100."),
    ([OK | {"payout": Decimal("10.123")}], "Rule 1, payout: A percent has at most two decimal places."),
    ([OK, CLICK_PERCENT], "Rule 2, kind: A click has no order amount: click rules are fixed."),
    ([OK | {"tiers": [{"min_conversions": 50, "payout": "12"}, {"min_conversions": 10, "payout": "15"}]}],
     "Rule 1, tiers: Tiers must be strictly ascending by min_conversions."),
    ([OK | {"tier_basis": "amount", "tiers": [{"min_conversions": 10, "payout": "12"}]}],
     "Rule 1, tiers: Each tier needs min_amount (the rule's tier_basis)."),
    ([{"event": "lead", "kind": "fixed", "payout": "2.505"}], "Rule 1, payout: More decimal places than EUR has."),
    ([OK, OK | {"payout": "12"}], "Two rules for the event sale and the same target."),
    ([OK | {"group": "gold", "affiliate": 1}], "Rule 1, group: A rule targets one affiliate or one group, not both."),
    ([OK | {"payout": 10.5}], 'Rule 1, payout: Enter an amount as a string or integer, e.g. "10.00".'),
    ([OK | {"payout": "1e30"}], "Rule 1, payout: The amount is too large."),
    ([{"event": "sale", "payout": "10"}], "Rule 1, kind: Choose one of: percent, fixed."),
    ([OK | {"event": "visit"}], "Rule 1, event: Choose one of: sale, lead, click."),
    ([OK | {"recurring_months": -1}], "Rule 1, recurring_months: A whole number from 0 to 1200, or null (forever)."),
    ([OK | {"tiers": "10 12"}], "Rule 1, tiers: A list of tiers, each {min_conversions or min_amount, payout}."),
    ([OK | {"colour": "red"}], "Rule 1, colour: Not a rule field."),
])
def test_the_service_refuses_a_bad_rule_whoever_calls(world, rules, message):
    with pytest.raises(ValidationError) as caught:
        _create(world, rules)
    assert message in caught.value.message_dict["rules"]
    assert not Program.objects.filter(name="Direct").exists() and not CommissionRule.objects.exists()


def test_the_service_refuses_an_affiliate_of_another_network(world):
    with pytest.raises(ValidationError) as caught:
        _create(world, [OK | {"affiliate": world.b.affiliate}])
    assert caught.value.message_dict == {"rules": ["Rule 1, affiliate: Unknown affiliate."]}
    assert not Program.objects.filter(name="Direct").exists()


def test_an_edit_with_a_bad_rule_changes_nothing(world):
    program = make_program(world.a.advertiser)
    rules = list(CommissionRule.objects.filter(program=program).values_list("pk", flat=True))
    with pytest.raises(ValidationError):
        services.program_update(network=world.a.network, program=program, actor=None, name="Renamed",
                                rules=[CLICK_PERCENT])
    program.refresh_from_db()
    assert program.name != "Renamed"
    assert list(CommissionRule.objects.filter(program=program).values_list("pk", flat=True)) == rules


def test_the_service_stores_a_rule_as_the_api_would(world):
    program = _create(world, [{"kind": "percent", "payout": "10.50", "tiers": [{"min_conversions": 5, "payout": 12}]},
                              {"event": "lead", "kind": "fixed", "payout": 2, "affiliate": world.a.affiliate.pk}])
    sale, lead = CommissionRule.objects.filter(program=program).order_by("pk")
    assert (sale.event, sale.payout, sale.recurring_months) == ("sale", Decimal("10.50"), 0)
    assert sale.tiers == [{"min_conversions": 5, "payout": "12"}]
    assert lead.affiliate == world.a.affiliate and lead.payout == Decimal("2")


def test_a_rule_error_from_a_service_is_a_400_with_field_errors():
    response = exception_handler(RuleErrors({"0": {"payout": ["Must be zero or more."]}}), {})
    assert response.status_code == 400
    assert response.data == {"rules": ["Rule 1, payout: Must be zero or more."]}
