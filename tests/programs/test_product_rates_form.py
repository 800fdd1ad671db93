"""The advertiser's rule form: a product-level rate (SKUs or categories), shown in the rules table; a bad list is
shown next to the field and writes nothing."""

from decimal import Decimal

import pytest

from programs.models import Program

from .test_advertiser_pages import program_data

pytestmark = pytest.mark.django_db
PRODUCT_RULE = {"rules-1-event": "sale", "rules-1-kind": "percent", "rules-1-payout": "15", "rules-1-revenue": "",
                "rules-1-tier_period": "month", "rules-1-recurring_months": "0"}


def test_create_a_product_rate_for_skus_and_see_it_in_the_rules_table(world, web):
    data = program_data(**PRODUCT_RULE, **{"rules-1-match_by": "sku", "rules-1-match": "TENT-2P, TENT-3P\nLAMP-1"})
    response = web("a", "advertiser").post("/advertiser/programs/new/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    program = Program.objects.get(name="Camping Tents")
    whole, product = program.rules.order_by("pk")
    assert whole.match == {} and product.payout == Decimal("15")
    assert product.match == {"sku": ["TENT-2P", "TENT-3P", "LAMP-1"]}
    page = web("a", "advertiser").get(response["Location"]).content.decode()
    assert "SKU TENT-2P, TENT-3P, LAMP-1" in page and "whole order" in page


def test_a_category_rate_and_the_form_offers_the_fields(world, web):
    page = web("a", "advertiser").get("/advertiser/programs/new/").content.decode()
    assert 'name="rules-0-match_by"' in page and 'name="rules-0-match"' in page
    data = program_data(**PRODUCT_RULE, **{"rules-1-match_by": "category", "rules-1-match": "tents"})
    assert web("a", "advertiser").post("/advertiser/programs/new/", data).status_code == 302
    assert Program.objects.get(name="Camping Tents").rules.filter(match={"category": ["tents"]}).exists()


@pytest.mark.parametrize(("fields", "message"), [
    ({"rules-1-match_by": "brand", "rules-1-match": "acme"}, "Either {&quot;sku&quot;: [...]}"),
    ({"rules-1-match_by": "sku", "rules-1-match": "x" * 129}, "A value has at most 128 characters."),
    ({"rules-1-event": "click", "rules-1-kind": "fixed", "rules-1-payout": "0.10", "rules-1-match_by": "sku",
      "rules-1-match": "A"}, "A click has no items"),
])
def test_a_bad_product_list_is_shown_next_to_the_field(world, web, fields, message):
    response = web("a", "advertiser").post("/advertiser/programs/new/", program_data(**(PRODUCT_RULE | fields)))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Program.objects.filter(name="Camping Tents").exists()
