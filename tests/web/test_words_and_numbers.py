"""Clear numbers and the right words on the pages (issue 18): counts with separators, money with its sign, audit
details as sentences, "sales" and "cost" in the reports, no conversion rate over 100 %, truthful empty states."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from network.audit_words import audit_sentence
from network.models import AuditLog
from reports.selectors import conversion_rate
from tests.factories import make_partnership, make_program

pytestmark = pytest.mark.django_db


def render(text: str, **context) -> str:
    return Template("{% load web %}" + text).render(Context(context))


def test_counts_get_separators_and_other_values_pass_through():
    assert render("{{ n|count }}", n=3843) == "3,843"
    assert render("{{ n|count }}", n=1234567) == "1,234,567"
    assert render("{{ n|count }}", n="2.52 %") == "2.52 %"
    assert render("{{ n|count }}", n=True) == "True"


def test_money_keeps_its_sign_and_minor_units():
    assert render("{{ a|money:'EUR' }}", a=Decimal("1458")) == "€1,458.00"
    assert render("{{ a|money:'EUR' }}", a="163.750000") == "€163.75"


@pytest.mark.parametrize(("data", "sentence"), [
    ({"previous": "pending", "reason": "Order cancelled"}, "Was pending, reason: Order cancelled."),
    ({"refund": "80.10", "full": False}, "Refund of €80.10, partial refund."),
    ({"source": "demo", "amount": "1965.120000", "currency": "EUR", "reference": "DEMO-1"},
     "Amount €1,965.12, from demo, reference DEMO-1."),
    ({"ids": [2, 4, 5]}, "3 commissions."),
    ({"batch": 1, "amount": "1965.12", "currency": "USD", "commissions": 187},
     "Batch #1, amount $1,965.12, 187 commissions."),
    ({}, ""),
    ({"odd_key": "x"}, "Odd key: x."),
])
def test_audit_details_read_as_sentences(data, sentence):
    assert audit_sentence(data, "EUR") == sentence


def test_the_audit_page_shows_sentences_not_dicts(world, web):
    AuditLog.objects.create(network=world.a.network, action="payout.paid", target_type="payout", target_id="7",
                            data={"source": "demo", "amount": "163.750000", "currency": "EUR"})
    page = web("a", "owner").get("/operator/audit/").content.decode()
    assert "Amount €163.75, from demo." in page
    assert "163.750000" not in page and "{&#x27;" not in page and "{'" not in page


def test_conversion_rate_is_none_without_clicks_or_with_more_conversions_than_clicks():
    assert conversion_rate(1, 4) == "0.2500"
    assert conversion_rate(0, 0) is None
    assert conversion_rate(2, 1) is None  # two coupon sales beside one click: not "200 % of clicks"
    assert conversion_rate(3, 3) == "1.0000"


def test_an_affiliate_in_two_programs_is_not_told_to_join_one(world, web):
    for name in ("Boots", "Tents"):
        make_partnership(make_program(world.a.advertiser, name=name), world.a.affiliate)
    page = web("a", "affiliate").get("/partner/").content.decode()
    assert "Join a program" not in page
    assert "In 2 programs: share your links to start earning" in page


def test_an_affiliate_in_no_program_is_told_to_join_one(world, web):
    page = web("a", "affiliate").get("/partner/").content.decode()
    assert "Join a program to start earning" in page


def test_the_advertiser_overview_says_sales_and_shows_zero_as_money(world, web):
    page = web("a", "advertiser").get("/advertiser/").content.decode()
    assert "Sales · last 30 days" in page and "Revenue" not in page
    assert 'data-testid="kpi-revenue">€0.00<' in page
