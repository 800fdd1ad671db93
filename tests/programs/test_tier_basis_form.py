"""The advertiser's rule form: tiers by conversions or by sales amount (tier_basis), shown in the rules table;
another network's program answers 404."""

from decimal import Decimal

import pytest

from programs.models import Program
from tests.pages import make_shop

from .test_advertiser_pages import program_data

pytestmark = pytest.mark.django_db


def test_create_a_rule_whose_tiers_count_the_sales_amount(world, web):
    data = program_data(**{"rules-0-kind": "percent", "rules-0-payout": "8", "rules-0-revenue": "",
                           "rules-0-tiers": "5000 10\n12500.50 12", "rules-0-tier_basis": "amount"})
    response = web("a", "advertiser").post("/advertiser/programs/new/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    [rule] = Program.objects.get(name="Camping Tents").rules.all()
    assert rule.tier_basis == "amount" and rule.payout == Decimal("8")
    assert rule.tiers == [{"min_amount": "5000", "payout": "10"}, {"min_amount": "12500.50", "payout": "12"}]
    page = web("a", "advertiser").get(response["Location"]).content.decode()
    assert "≥ €5,000.00: 10 %" in page and "≥ €12,500.50: 12 %" in page and "sales amount in the period" in page


def test_the_form_offers_the_tier_basis_and_conversions_stay_the_default(world, web):
    page = web("a", "advertiser").get("/advertiser/programs/new/").content.decode()
    assert 'name="rules-0-tier_basis"' in page and 'value="amount"' in page
    web("a", "advertiser").post("/advertiser/programs/new/", program_data())
    [rule] = Program.objects.get(name="Camping Tents").rules.all()
    assert rule.tier_basis == "conversions" and rule.tiers[0] == {"min_conversions": 10, "payout": "7.50"}


@pytest.mark.parametrize(("tiers", "basis", "message"), [
    ("10.001 12", "amount", "More decimal places than EUR has."),
    ("500 12\n100 15", "amount", "Tiers must be strictly ascending by min_amount."),
    ("10 12", "weekly", "&quot;weekly&quot; is not a valid choice."),
])
def test_bad_amount_tiers_are_shown_next_to_the_field(world, web, tiers, basis, message):
    data = program_data(**{"rules-0-kind": "percent", "rules-0-payout": "8", "rules-0-revenue": "",
                           "rules-0-tiers": tiers, "rules-0-tier_basis": basis})
    response = web("a", "advertiser").post("/advertiser/programs/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Program.objects.filter(name="Camping Tents").exists()


def test_another_networks_program_edit_is_404(world, web):
    shop = make_shop(world)
    data = program_data(**{"rules-0-tier_basis": "amount", "rules-0-tiers": "100 6"})
    client = web("a", "advertiser")
    assert client.get(f"/advertiser/programs/{shop.other_program.pk}/edit/").status_code == 404
    assert client.post(f"/advertiser/programs/{shop.other_program.pk}/edit/", data).status_code == 404
    assert not shop.other_program.rules.filter(tier_basis="amount").exists()


def test_the_marketplace_shows_a_program_whose_tiers_count_the_sales_amount(world, web):
    from tests.factories import make_program

    make_program(world.a.advertiser, name="Big Spenders", rules=[
        {"event": "sale", "kind": "percent", "payout": "8", "tier_basis": "amount",
         "tiers": [{"min_amount": "5000", "payout": "10"}, {"min_amount": "900", "payout": "9"}]}])
    response = web("a", "affiliate").get("/partner/marketplace/")
    assert response.status_code == 200
    assert "8 % per sale (up to 10 % with tiers)" in response.content.decode()
