"""A corrected order (`POST /api/v1/conversions/<id>/adjust`): a commission priced by item lines keeps the unchanged
lines, prices the changed and new ones, drops the removed ones and posts the difference, balanced per currency;
its explanation lists the changed lines; a later refund by item reverses the right (new) lines. A commission priced
as a whole at a percent follows the new amount, its referrer's override too. Bad input: 400/403/404, nothing
changed."""

from decimal import Decimal

import pytest

from commissions.models import Account, Commission, LedgerEntry, Transaction
from tests.factories import make_affiliate
from tracking.models import Conversion

from .helpers import assert_ledger_consistent, convert, owed, program_with_link
from .test_product_rates import CART, RULES

pytestmark = pytest.mark.django_db
D = Decimal
PENDING = Account.Kind.AFFILIATE_PENDING
RECEIVABLE = Account.Kind.ADVERTISER_RECEIVABLE
# TENT-2P unchanged (25.98, revenue 32.48); BOOT-42 now one pair (5.00 instead of 10.00); SOCK removed (-1.00);
# TENT-3P new, no product rate: the program's 10 % of 199.00 = 19.90.
NEW_CART = [
    {"sku": "TENT-2P", "category": "tents", "amount": "129.90", "quantity": 1},
    {"sku": "BOOT-42", "category": "Shoes", "amount": "40.00", "quantity": 1},
    {"sku": "TENT-3P", "category": "tents", "amount": "199.00", "quantity": 1},
]


def _adjust(tenant, conversion, body, role="advertiser"):
    return tenant.client(role).post(f"/api/v1/conversions/{conversion.pk}/adjust", body, format="json")


def _refund(tenant, conversion, body):
    return tenant.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", body, format="json")


def _adjusted_postings(commission):
    return Transaction.objects.filter(kind="commission.adjusted", ref_id=str(commission.pk))


@pytest.fixture
def cart(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    assert (commission.amount, commission.revenue) == (D("36.98"), D("43.48"))
    return conversion, commission


def test_changed_items_are_priced_again_and_the_difference_is_posted(world, cart):
    conversion, commission = cart
    response = _adjust(world.a, conversion, {"items": NEW_CART})
    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "368.90"  # no amount given: the items' total
    commission.refresh_from_db()
    assert (commission.amount, commission.revenue) == (D("50.88"), D("57.38"))
    assert commission.base_amount == D("368.90") and commission.status == Commission.Status.PENDING
    lines = commission.rule_snapshot["items"]
    assert [(line["sku"], line["commission"]) for line in lines] == [
        ("TENT-2P", "25.98"), ("BOOT-42", "5"), ("TENT-3P", "19.9")]
    # The difference (+13.90 to the affiliate, +13.90 owed by the advertiser) is one balanced posting.
    [posting] = _adjusted_postings(commission)
    entries = list(LedgerEntry.objects.filter(transaction=posting).values_list("amount", flat=True))
    assert sum(entries) == 0 and sorted(entries) == [D("-13.90"), D("13.90")]
    assert owed(PENDING, world.a.affiliate) == D("50.88")
    assert owed(RECEIVABLE, world.a.advertiser) == D("57.38")
    assert_ledger_consistent()
    assert Conversion.objects.get(pk=conversion.pk).items == NEW_CART


def test_the_explanation_lists_the_changed_lines(world, cart):
    conversion, commission = cart
    assert _adjust(world.a, conversion, {"items": NEW_CART}).status_code == 200
    body = world.a.client("affiliate").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    [change] = body["order_changes"]
    assert (change["amount_before"], change["amount"]) == ("36.98", "50.88")
    assert "revenue" not in change  # the affiliate never sees the advertiser's cost
    shown = [(line["sku"], line["quantity"], line["commission"], line["removed"]) for line in change["lines"]]
    assert shown == [("BOOT-42", 1, "5.00", False), ("TENT-3P", 1, "19.90", False),
                     ("BOOT-42", 2, "10.00", True), ("SOCK", 3, "1.00", True)]
    assert [line["sku"] for line in body["items"]] == ["TENT-2P", "BOOT-42", "TENT-3P"]
    advertiser = world.a.client("advertiser").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    assert advertiser["order_changes"][0]["revenue"] == "57.38"


def test_adjust_then_refund_by_item_reverses_the_new_lines(world, cart):
    conversion, commission = cart
    assert _adjust(world.a, conversion, {"items": NEW_CART}).status_code == 200
    # The new tent is returned: its line (19.90) is reversed, nothing else.
    response = _refund(world.a, conversion, {"items": [{"sku": "TENT-3P", "amount": "199.00"}]})
    assert response.status_code == 200, response.content
    commission.refresh_from_db()
    assert (commission.reversed_amount, commission.reversed_revenue) == (D("19.90"), D("19.90"))
    assert owed(PENDING, world.a.affiliate) == D("30.98")
    assert owed(RECEIVABLE, world.a.advertiser) == D("37.48")
    assert_ledger_consistent()
    # A removed item can no longer be refunded by name.
    gone = _refund(world.a, conversion, {"items": [{"sku": "SOCK", "amount": "9.99"}]})
    assert gone.status_code == 400 and "no item with this sku" in gone.json()["items"][0]
    assert _refund(world.a, conversion, {}).status_code == 200  # the rest of the order
    commission.refresh_from_db()
    assert commission.status == Commission.Status.REVERSED and commission.reversed_amount == D("50.88")
    assert owed(PENDING, world.a.affiliate) == 0 and owed(RECEIVABLE, world.a.advertiser) == 0
    assert_ledger_consistent()


def test_an_amount_only_correction_leaves_item_lines_alone(world, cart):
    conversion, commission = cart
    response = _adjust(world.a, conversion, {"amount": "229.89"})  # shipping added: the lines did not change
    assert response.status_code == 200 and response.json()["amount"] == "229.89"
    commission.refresh_from_db()
    assert commission.amount == D("36.98") and commission.base_amount == D("229.89")
    assert not _adjusted_postings(commission).exists()
    assert owed(PENDING, world.a.affiliate) == D("36.98")


def test_a_percent_commission_and_its_referrers_override_follow_the_new_amount(world):
    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10"),
                                                 "revenue": D("12")}],
                                affiliate=referred, second_tier_percent=D("50"))
    conversion, commissions = convert(world.a, link, "order-1", "100.00")
    first = next(c for c in commissions if c.tier == 1)
    override = next(c for c in commissions if c.tier == 2)
    assert (first.amount, first.revenue, override.amount) == (D("10.00"), D("12.00"), D("5.00"))
    assert _adjust(world.a, conversion, {"amount": "80.00"}).status_code == 200
    first.refresh_from_db()
    override.refresh_from_db()
    assert (first.amount, first.revenue, override.amount) == (D("8.00"), D("9.60"), D("4.00"))
    assert owed(PENDING, referred) == D("8.00") and owed(PENDING, world.a.affiliate) == D("4.00")
    assert owed(RECEIVABLE, world.a.advertiser) == D("13.60")  # 9.60 + the override's 4.00
    assert_ledger_consistent()


def test_a_fixed_commission_does_not_change_with_the_amount(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "fixed", "payout": D("7")}])
    conversion, [commission] = convert(world.a, link, "order-1", "100.00")
    assert _adjust(world.a, conversion, {"amount": "50.00"}).status_code == 200
    commission.refresh_from_db()
    assert commission.amount == D("7.00") and not _adjusted_postings(commission).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({}, "detail"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": "219.89"}, "detail"),  # nothing changes
    ({"items": [{"sku": "A", "amount": "x"}]}, "items"),
    ({"items": [{"sku": "A", "quantity": 0}]}, "items"),
    ({"items": CART, "amount": "10.00"}, "items"),  # the items total more than the amount
    ({"amount": "200.00"}, "amount"),  # less than the recorded items' total
])
def test_bad_corrections_are_400_and_change_nothing(world, cart, body, field):
    conversion, commission = cart
    postings = Transaction.objects.count()
    response = _adjust(world.a, conversion, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Conversion.objects.get(pk=conversion.pk).amount == D("219.89")
    commission.refresh_from_db()
    assert commission.amount == D("36.98") and Transaction.objects.count() == postings


def test_a_partly_refunded_conversion_can_be_corrected(world, cart):
    """The refund no longer blocks a correction (tests/commissions/test_conversion_adjust_refunds.py: the money)."""
    conversion, commission = cart
    assert _refund(world.a, conversion, {"amount": "10.00"}).status_code == 200
    response = _adjust(world.a, conversion, {"items": NEW_CART})
    assert response.status_code == 200, response.content
    assert response.json()["refunded_amount"] == "10.00"
    commission.refresh_from_db()
    assert [line["sku"] for line in commission.rule_snapshot["items"]] == ["TENT-2P", "BOOT-42", "TENT-3P"]
    assert_ledger_consistent()


def test_who_may_adjust_and_another_networks_conversion(world, cart):
    conversion, _ = cart
    assert _adjust(world.a, conversion, {"amount": "1.00"}, role="affiliate").status_code == 403
    assert _adjust(world.b, conversion, {"amount": "1.00"}).status_code == 404
    assert _adjust(world.b, conversion, {"amount": "1.00"}, role="owner").status_code == 404
    assert Conversion.objects.get(pk=conversion.pk).amount == D("219.89")
    assert _adjust(world.a, conversion, {"amount": "300.00"}, role="owner").status_code == 200


# --- the advertiser's conversion page -----------------------------------------------------------------------------
def test_the_advertiser_corrects_an_order_on_its_page(world, web):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    conversion, [commission] = convert(world.a, link, "order-1", "100.00")
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert 'data-testid="adjust-form"' in page
    bad = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", {"action": "adjust",
                                                                                 "amount": "ten"})
    assert bad.status_code == 400 and "Enter an amount" in bad.content.decode()
    same = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", {"action": "adjust",
                                                                                  "amount": "100.00"})
    assert same.status_code == 400 and "Nothing changes" in same.content.decode()
    commission.refresh_from_db()
    assert commission.amount == D("10.00")
    other = web("b", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", {"action": "adjust",
                                                                                   "amount": "50.00"})
    assert other.status_code == 404
    done = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", {"action": "adjust",
                                                                                  "amount": "120.00"})
    assert done.status_code == 302
    commission.refresh_from_db()
    assert commission.amount == D("12.00") and owed(PENDING, world.a.affiliate) == D("12.00")
    assert_ledger_consistent()
    # Partly refunded, the page still offers the correction (of the order, refunds kept).
    assert _refund(world.a, conversion, {"amount": "20.00"}).status_code == 200
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert 'data-testid="adjust-form"' in page
    # Fully refunded: nothing is left to correct.
    assert _refund(world.a, conversion, {}).status_code == 200
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert 'data-testid="adjust-form"' not in page
