"""Product-level rates: a rule may `match` a conversion's items by SKU or category; a conversion with items is paid
the sum of its lines, each by its matching rule (affiliate > group > default) or else the program's rule, and its
explanation lists the lines. Conversions without items (or in programs without product rules) are priced as before."""

from decimal import Decimal

import pytest
from django.test import Client

from commissions.models import Account, Commission
from network.auth import SESSION_NETWORK_KEY
from programs.models import CommissionRule, Program
from tests.factories import make_group, make_link, make_partnership
from tracking.models import Conversion

from .helpers import assert_ledger_consistent, convert, owed, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
RULES = [
    {"event": "sale", "kind": "percent", "payout": D("10")},
    {"event": "sale", "kind": "percent", "payout": D("20"), "revenue": D("25"), "match": {"sku": ["TENT-2P"]}},
    {"event": "sale", "kind": "fixed", "payout": D("5"), "match": {"category": ["shoes"]}},
]
CART = [
    {"sku": "TENT-2P", "category": "tents", "amount": "129.90", "quantity": 1},  # 20 %: 25.98 (revenue 32.48)
    {"sku": "BOOT-42", "category": "Shoes", "amount": "80.00", "quantity": 2},  # 5.00 a unit: 10.00
    {"sku": "SOCK", "category": "socks", "amount": "9.99", "quantity": 3},  # no match: 10 % = 1.00
]


def _rule_body(**fields):
    return {"event": "sale", "kind": "percent", "payout": "10"} | fields


def test_a_mixed_cart_earns_the_sum_of_its_item_lines_and_the_ledger_balances(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    assert commission.amount == D("36.98") and commission.revenue == D("43.48")
    assert commission.base_amount == D("219.89") and commission.currency == "EUR"
    lines = commission.rule_snapshot["items"]
    assert [(line["sku"], line["commission"], line["revenue"]) for line in lines] == [
        ("TENT-2P", "25.98", "32.48"), ("BOOT-42", "10", "10"), ("SOCK", "1", "1")]
    default = CommissionRule.objects.get(program=link.program, match={})
    assert lines[2]["rule_id"] == default.pk and commission.rule_id == default.pk
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("36.98")
    assert owed(Account.Kind.ADVERTISER_RECEIVABLE, world.a.advertiser) == D("43.48")
    assert_ledger_consistent()


def test_items_with_no_product_rule_use_the_program_rule_chosen_as_today(world):
    """Affiliate > group > default among the product rules that match; an unmatched item gets the group's rule."""
    gold = make_group(world.a.network, "gold", world.a.affiliate)
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10")},
        {"event": "sale", "kind": "percent", "payout": D("12"), "group": gold},
        {"event": "sale", "kind": "percent", "payout": D("20"), "match": {"sku": ["A"]}},
        {"event": "sale", "kind": "percent", "payout": D("30"), "match": {"sku": ["A"]}, "group": gold},
        {"event": "sale", "kind": "percent", "payout": D("40"), "match": {"sku": ["A", "B"]},
         "affiliate": world.a.affiliate},
        {"event": "sale", "kind": "percent", "payout": D("50"), "match": {"sku": ["C"]},
         "affiliate": world.a.affiliate2},
    ])
    items = [{"sku": "a", "amount": "100"}, {"sku": "C", "amount": "100"}, {"sku": "Z", "amount": "100"}]
    _, [commission] = convert(world.a, link, "o-1", "300", items=items)
    # A: the affiliate's own product rate (40); C: another affiliate's rule does not apply, so the group's 12; Z: 12.
    assert [line["rate"] for line in commission.rule_snapshot["items"]] == ["40", "12", "12"]
    assert [line["group"] for line in commission.rule_snapshot["items"]] == ["", "gold", "gold"]
    assert commission.amount == D("64.00")
    link2 = make_link(make_partnership(link.program, world.a.affiliate2))
    _, [other] = convert(world.a, link2, "o-2", "300", items=items)
    assert [line["rate"] for line in other.rule_snapshot["items"]] == ["20", "50", "10"] and other.amount == D("80.00")


def test_a_program_without_a_whole_order_rule_pays_only_the_matched_items(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10"), "match": {"category": ["tents"]}}])
    _, [commission] = convert(world.a, link, "o-1", "150", items=[
        {"sku": "T", "category": "tents", "amount": "100"}, {"sku": "S", "category": "socks", "amount": "50"}])
    assert commission.amount == D("10.00")
    assert commission.rule_snapshot["items"][1]["rule_id"] is None
    assert commission.rule_snapshot["items"][1]["commission"] == "0"
    _, nothing = convert(world.a, link, "o-2", "50", items=[{"sku": "S", "category": "socks", "amount": "50"}])
    assert nothing == [] and not Commission.objects.filter(conversion__order_id="o-2").exists()
    _, whole = convert(world.a, link, "o-3", "50")  # no items: no whole-order rule, no commission, as before
    assert whole == []


def test_conversions_without_items_and_programs_without_product_rules_are_priced_as_before(world):
    _, link = program_with_link(world.a, rules=RULES)
    _, [plain_sale] = convert(world.a, link, "o-1", "100.00")
    assert plain_sale.amount == D("10.00") and "items" not in plain_sale.rule_snapshot
    _, link_b = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10")}])
    _, [sale] = convert(world.a, link_b, "o-2", "100.00", items=[{"sku": "TENT-2P", "amount": "500"}])
    assert sale.amount == D("10.00") and "items" not in sale.rule_snapshot
    assert sale.rule_snapshot["rate"] == "10" and plain_sale.rule_snapshot["rate"] == "10"


def test_price_and_qty_items_are_read_and_fixed_rates_pay_per_unit(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "fixed", "payout": D("2.50"), "match": {"sku": ["TENT-2P"]}},
        {"event": "sale", "kind": "percent", "payout": D("10")}])
    _, [commission] = convert(world.a, link, "o-1", "409.70", items=[
        {"sku": "TENT-2P", "qty": 3, "price": "129.90"}, {"sku": "X", "qty": 2, "price": "10.00"}])
    assert [line["amount"] for line in commission.rule_snapshot["items"]] == ["389.7", "20"]
    assert commission.amount == D("9.50")  # 3 × 2.50 + 10 % of 20.00


# --- the explanation --------------------------------------------------------------------------------------------
def test_the_explanation_lists_each_items_line_for_each_party(world):
    _, link = program_with_link(world.a, rules=RULES)
    _, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    affiliate = world.a.client("affiliate").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    tent, boots, socks = affiliate["items"]
    assert (tent["sku"], tent["amount"], tent["commission"], tent["source"]) == ("TENT-2P", "129.90", "25.98",
                                                                                 "product")
    assert tent["formula"] == "€129.90 × 20% = €25.98" and "SKU" in tent["reason"]
    assert boots["formula"] == "2 × €5.00 = €10.00" and "category" in boots["reason"]
    assert socks["source"] == "program" and socks["formula"] == "€9.99 × 10% = €1.00"
    assert "no product rate matches" in socks["reason"]
    assert affiliate["calculation"]["kind"] == "items"
    assert affiliate["calculation"]["formula"] == "€25.98 + €10.00 + €1.00 = €36.98"
    assert not any("revenue" in line or "revenue_formula" in line for line in affiliate["items"])
    advertiser = world.a.client("advertiser").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    # Under a margin the advertiser sees what it pays per line, never the affiliate's payout.
    assert [line["revenue"] for line in advertiser["items"]] == ["32.48", "10.00", "1.00"]
    assert not any("commission" in line for line in advertiser["items"])
    assert advertiser["calculation"]["revenue_formula"] == "€32.48 + €10.00 + €1.00 = €43.48"
    assert world.b.client("affiliate").get(f"/api/v1/commissions/{commission.pk}").status_code == 404


def test_the_commission_page_shows_the_item_lines(world):
    _, link = program_with_link(world.a, rules=RULES)
    _, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    client = Client()
    client.force_login(world.a.affiliate.membership.user)
    session = client.session
    session[SESSION_NETWORK_KEY] = world.a.network.pk
    session.save()
    page = client.get(f"/partner/commissions/{commission.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="explain-items"' in html and "TENT-2P" in html and "€129.90 × 20% = €25.98" in html


# --- the API: rules with `match`, conversions with items ----------------------------------------------------------
def test_rules_with_a_match_are_created_and_shown_by_the_api(world):
    response = world.a.client("advertiser").post("/api/v1/programs", {
        "name": "Trail", "landing_url": "https://shop.example.com/", "currency": "EUR",
        "rules": [_rule_body(), _rule_body(payout="20", match={"sku": [" TENT-2P ", "TENT-2P", "TENT-3P"]}),
                  _rule_body(payout="15", match={"category": ["tents"]})]}, format="json")
    assert response.status_code == 201, response.content
    assert [rule["match"] for rule in response.json()["rules"]] == [
        {}, {"sku": ["TENT-2P", "TENT-3P"]}, {"category": ["tents"]}]
    program = Program.objects.get(pk=response.json()["id"])
    assert program.rules.get(payout=20).match == {"sku": ["TENT-2P", "TENT-3P"]}


@pytest.mark.parametrize("match", [
    {"brand": ["acme"]}, {"sku": "TENT-2P"}, {"sku": []}, {"sku": [1]}, {"sku": [""]},
    {"sku": ["A"], "category": ["B"]}, ["TENT-2P"], "TENT-2P", {"sku": ["x" * 129]},
])
def test_a_bad_match_answers_400_with_the_rules_field_error_and_writes_nothing(world, match):
    response = world.a.client("advertiser").post("/api/v1/programs", {
        "name": "Trail", "landing_url": "https://shop.example.com/", "currency": "EUR",
        "rules": [_rule_body(match=match)]}, format="json")
    assert response.status_code == 400, response.content
    assert "match" in response.json()["rules"]["0"]
    assert not Program.objects.filter(name="Trail").exists()


def test_a_click_rule_cannot_match_items_and_two_rules_for_the_same_match_clash(world):
    program, _ = program_with_link(world.a, rules=RULES)
    client = world.a.client("advertiser")
    click = client.patch(f"/api/v1/programs/{program.pk}", {"rules": [
        {"event": "click", "kind": "fixed", "payout": "0.10", "match": {"sku": ["A"]}}]}, format="json")
    assert click.status_code == 400 and "match" in click.json()["rules"]["0"]
    clash = client.patch(f"/api/v1/programs/{program.pk}", {"rules": [
        _rule_body(match={"sku": ["A", "b"]}), _rule_body(payout="12", match={"sku": ["B", "a"]})]}, format="json")
    assert clash.status_code == 400 and "Two rules" in str(clash.json()["rules"])
    added = client.patch(f"/api/v1/programs/{program.pk}", {"rules": [
        _rule_body(match={"sku": ["A"]}), _rule_body(payout="12", match={"sku": ["B"]})]}, format="json")
    assert added.status_code == 200, added.content
    assert program.rules.count() == 5
    other = world.b.client("advertiser").patch(f"/api/v1/programs/{program.pk}", {"rules": [
        _rule_body(match={"sku": ["Z"]})]}, format="json")
    assert other.status_code == 404 and program.rules.count() == 5


def test_a_postback_with_items_is_paid_by_its_lines_and_one_without_as_a_whole(world, monkeypatch,
                                                                             django_capture_on_commit_callbacks):
    """Both postback paths: `items` is not the fast path's shape, so it hands such a postback to the full view; a
    postback without items stays on the fast path. Commissions are computed from the rows, whichever path."""
    from django.utils import timezone

    from network.models import ApiKey
    from network.services import hash_api_key
    from tests.tracking.conversions_support import click_at
    from tracking.api import ConversionViewSet

    program, link = program_with_link(world.a, rules=RULES)
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    click = click_at(link)
    client = world.a.client("advertiser")
    used = []
    full_create = ConversionViewSet.create
    monkeypatch.setattr(ConversionViewSet, "create", lambda *a, **k: used.append("full") or full_create(*a, **k))
    with django_capture_on_commit_callbacks(execute=True):
        cart = client.post("/api/v1/conversions", {"order_id": "C-1", "amount": "219.89", "currency": "EUR",
                                                   "click_id": click.click_id, "items": CART}, format="json")
    assert cart.status_code == 201, cart.content
    assert used == ["full"] and cart.json()["items"] == CART and cart.json()["affiliate"] == world.a.affiliate.pk
    with django_capture_on_commit_callbacks(execute=True):
        whole = client.post("/api/v1/conversions", {"order_id": "C-2", "amount": "219.89", "currency": "EUR",
                                                    "click_id": click.click_id}, format="json")
    assert whole.status_code == 201, whole.content
    assert used == ["full"]  # the fast path recorded it
    paid_cart = Commission.objects.get(conversion_id=cart.json()["id"], tier=1)
    paid_whole = Commission.objects.get(conversion_id=whole.json()["id"], tier=1)
    assert (paid_cart.amount, paid_whole.amount) == (D("36.98"), D("21.99"))
    assert len(paid_cart.rule_snapshot["items"]) == 3 and "items" not in paid_whole.rule_snapshot
    assert_ledger_consistent()


@pytest.mark.parametrize(("item", "field"), [
    ({"sku": "A", "amount": "abc"}, "amount"), ({"sku": "A", "amount": 1.5}, "amount"),
    ({"sku": "A", "amount": "-1"}, "amount"), ({"sku": "A", "quantity": 0}, "quantity"),
    ({"sku": "A", "quantity": "2"}, "quantity"), ({"sku": 5}, "sku"), ({"category": ["a"]}, "category"),
    ({"sku": "A", "price": "1e40"}, "price"),
])
def test_a_postback_with_a_bad_item_answers_400_and_records_nothing(world, item, field):
    response = world.a.client("advertiser").post("/api/v1/conversions", {
        "order_id": "BAD", "amount": "10.00", "currency": "EUR", "items": [{"sku": "OK", "amount": "1"}, item]},
        format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["items"]["1"]
    assert not Conversion.objects.filter(order_id="BAD").exists()


def test_a_refund_of_a_cart_reverses_its_lines_in_proportion(world):
    from commissions.services import commissions_reverse_for_refund

    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    commissions_reverse_for_refund(conversion=conversion, amount=D("219.89"))
    commission.refresh_from_db()
    assert commission.status == Commission.Status.REVERSED and commission.remaining_amount == 0
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == 0
    assert_ledger_consistent()


# --- refunds by item -------------------------------------------------------------------------------------------
def _refund(world, conversion, body, tenant="a"):
    return getattr(world, tenant).client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", body,
                                                            format="json")


@pytest.fixture
def cart(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    return conversion, commission


def test_a_refund_by_item_reverses_that_items_line_and_a_later_refund_the_rest_in_proportion(world, cart):
    conversion, commission = cart
    response = _refund(world, conversion, {"items": [{"sku": "TENT-2P", "amount": "129.90"}]})
    assert response.status_code == 200, response.content
    assert response.json()["refunded_amount"] == "129.90" and response.json()["refund_status"] == "partial"
    commission.refresh_from_db()
    assert (commission.reversed_amount, commission.reversed_revenue) == (D("25.98"), D("32.48"))
    assert commission.status == Commission.Status.PENDING and commission.remaining_amount == D("11.00")
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("11.00")
    assert_ledger_consistent()
    line = world.a.client("affiliate").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]["items"][0]
    assert (line["sku"], line["refunded"]) == ("TENT-2P", "129.90")
    # Half a pair of boots (5.00 of its 10.00), then 50.00 of the rest of the order in proportion.
    assert _refund(world, conversion, {"items": [{"sku": "boot-42", "amount": "40.00"}]}).status_code == 200
    commission.refresh_from_db()
    assert commission.reversed_amount == D("30.98")
    assert _refund(world, conversion, {"amount": "30.00"}).status_code == 200
    commission.refresh_from_db()
    # The rest: 6.00 of commission on 49.99 of order not refunded by item; 30.00 of it refunded: 3.60.
    assert commission.reversed_amount == D("34.58") and commission.status == Commission.Status.PENDING
    assert _refund(world, conversion, {}).status_code == 200  # the whole remainder
    commission.refresh_from_db()
    assert commission.status == Commission.Status.REVERSED and commission.remaining_amount == 0
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == 0
    assert_ledger_consistent()


@pytest.mark.parametrize(("body", "field"), [
    ({"items": [{"sku": "NOPE", "amount": "1.00"}]}, "items"),
    ({"items": [{"sku": "TENT-2P", "amount": "129.91"}]}, "items"),
    ({"items": [{"sku": "TENT-2P", "amount": "0"}]}, "items"),
    ({"items": [{"sku": "TENT-2P", "amount": "1.001"}]}, "items"),
    ({"items": [{"sku": "TENT-2P", "amount": 1.5}]}, "items"),
    ({"items": [{"sku": "TENT-2P"}]}, "items"),
    ({"items": [{"sku": "TENT-2P", "amount": "10"}], "amount": "10"}, "amount"),
])
def test_a_bad_refund_by_item_answers_400_and_changes_nothing(world, cart, body, field):
    conversion, commission = cart
    response = _refund(world, conversion, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    conversion.refresh_from_db()
    commission.refresh_from_db()
    assert conversion.refunded_amount == 0 and commission.reversed_amount == 0
    assert "refunded" not in commission.rule_snapshot["items"][0]


def test_an_item_cannot_be_refunded_twice_and_another_networks_conversion_is_404(world, cart):
    conversion, commission = cart
    assert _refund(world, conversion, {"items": [{"sku": "TENT-2P", "amount": "100.00"}]}).status_code == 200
    again = _refund(world, conversion, {"items": [{"sku": "TENT-2P", "amount": "30.00"}]})
    assert again.status_code == 400 and "items" in again.json()
    conversion.refresh_from_db()
    commission.refresh_from_db()
    assert conversion.refunded_amount == D("100.00") and commission.reversed_amount == D("20.00")
    assert _refund(world, conversion, {"items": [{"sku": "TENT-2P", "amount": "1"}]}, tenant="b").status_code == 404
    assert_ledger_consistent()


def test_a_conversion_without_items_cannot_be_refunded_by_item(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "o-1", "100.00")
    response = _refund(world, conversion, {"items": [{"sku": "TENT-2P", "amount": "10"}]})
    assert response.status_code == 400 and "no items" in str(response.json()["items"])
    conversion.refresh_from_db()
    assert conversion.refunded_amount == 0


def test_the_referrers_override_follows_a_refund_by_item(world):
    from tests.factories import make_affiliate

    referred, _issued = make_affiliate(world.a.network, "Referred", "referred@alpha.test",
                                       referred_by=world.a.affiliate2)
    program, _ = program_with_link(world.a, rules=RULES, second_tier_percent=D("10"))
    link = make_link(make_partnership(program, referred))
    conversion, commissions = convert(world.a, link, "cart-2", "219.89", items=CART)
    first, second = sorted(commissions, key=lambda c: c.tier)
    assert (first.amount, second.amount) == (D("36.98"), D("3.70"))
    assert _refund(world, conversion, {"items": [{"sku": "TENT-2P", "amount": "129.90"}]}).status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.reversed_amount == D("25.98")
    assert second.reversed_amount == D("2.60")  # 3.70 × 25.98 / 36.98 = 2.599...
    assert_ledger_consistent()
