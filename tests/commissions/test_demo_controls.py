"""seed_demo shows the advertiser controls: the sale program's targeting and caps on its pages, carts priced line
by line (SKU and category rates) and a corrected order whose explanation lists the changed lines."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from commissions.models import Commission
from reports.demo import as_of
from tests.commissions.helpers import assert_ledger_consistent
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_demo_prices_carts_by_line_and_shows_a_corrected_order():
    moment = timezone.now()
    with as_of(moment):
        call_command("seed_demo", "--force", "--days", "3", stdout=io.StringIO())
    cart = Commission.objects.get(conversion__order_id="DEMO-1004", tier=1)
    lines = {line["sku"]: line for line in cart.rule_snapshot["items"]}
    assert lines["tent"]["match"] == {"sku": ["tent"]} and lines["tent"]["commission"] == "20"
    assert lines["boots"]["match"] == {"category": ["footwear"]} and lines["boots"]["commission"] == "23.85"
    assert lines["socks"]["match"] == {}  # the program's own rule
    corrected = Commission.objects.get(conversion__order_id="DEMO-1005", tier=1)
    assert corrected.amount == Decimal("20.85")  # the corrected boots: 15 % of 139.00
    [change] = corrected.rule_snapshot["conversion_adjustments"]
    assert {(line["sku"], bool(line.get("removed"))) for line in change["lines"]} == {
        ("boots", False), ("boots", True), ("socks", True)}
    advertiser = api_client("afk_demo_advertiser_northwind")
    explanation = advertiser.get(f"/api/v1/commissions/{corrected.pk}").json()["explanation"]
    change = explanation["order_changes"][0]
    # The advertiser sees its cost before and after (18 % of the boots, the socks' 13 %), never the payout.
    assert (change["revenue_before"], change["revenue"]) == ("30.18", "25.02") and "amount" not in change
    program = advertiser.get(f"/api/v1/programs/{cart.program_id}").json()
    assert program["targeting"]["countries_blocked"] == ["CN", "VN"] and program["caps"]["conversions_day"] == 300
    assert_ledger_consistent()
    before = sorted(Commission.objects.values_list("pk", "amount", "status"))
    with as_of(moment):  # a later run would add the traffic since
        call_command("seed_demo", "--force", "--days", "3", stdout=io.StringIO())
    assert sorted(Commission.objects.values_list("pk", "amount", "status")) == before
