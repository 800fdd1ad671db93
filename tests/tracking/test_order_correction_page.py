"""The advertiser corrects an order's lines on its conversion page (SKU, category, amount, quantity; lines added and
removed), checked as the API checks them: field errors next to the line, a 400, nothing changed; another network's
conversion is a 404."""

from decimal import Decimal

import pytest

from commissions.models import Account, Commission, Transaction
from tests.commissions.helpers import assert_ledger_consistent, convert, owed, program_with_link
from tests.commissions.test_product_rates import CART, RULES
from tracking.models import Conversion

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cart(world):
    _, link = program_with_link(world.a, rules=RULES)
    conversion, [commission] = convert(world.a, link, "cart-1", "219.89", items=CART)
    return conversion, commission


def _form(lines, amount="", **extra):
    data = {"action": "adjust", "amount": amount, "items-TOTAL_FORMS": str(len(lines))}
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"items-{i}-{key}"] = value
    return data | extra


def _lines(items):
    return [{"sku": i["sku"], "category": i["category"], "amount": i["amount"], "quantity": str(i["quantity"])}
            for i in items]


def _unchanged(conversion, commission, postings):
    assert Conversion.objects.get(pk=conversion.pk).items == CART
    commission.refresh_from_db()
    assert commission.amount == D("36.98") and Transaction.objects.count() == postings


def test_the_page_shows_the_orders_lines_to_correct(world, web, cart):
    conversion, _ = cart
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert 'name="items-TOTAL_FORMS" value="4"' in page  # three lines and an empty one
    assert 'name="items-0-sku" value="TENT-2P"' in page and 'name="items-1-amount" value="80.00"' in page
    assert 'name="items-2-quantity" value="3"' in page and 'data-testid="adjust-add-line"' in page


def test_the_advertiser_changes_adds_and_removes_lines(world, web, cart):
    conversion, commission = cart
    lines = _lines(CART)
    lines[1]["amount"], lines[1]["quantity"] = "40.00", "1"  # one pair of boots: 5.00
    lines[2]["remove"] = "on"  # the socks go
    lines.append({"sku": "TENT-3P", "category": "tents", "amount": "199.00", "quantity": "1"})  # 10 %: 19.90
    lines.append({"sku": "", "category": "", "amount": "", "quantity": ""})  # an empty row is skipped
    response = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", _form(lines))
    assert response.status_code == 302, response.content.decode()[-2000:]
    conversion.refresh_from_db()
    assert conversion.amount == D("368.90")  # no amount given: the lines' total
    assert [(i["sku"], i["amount"], i["quantity"]) for i in conversion.items] == [
        ("TENT-2P", "129.90", 1), ("BOOT-42", "40.00", 1), ("TENT-3P", "199.00", 1)]
    commission.refresh_from_db()
    assert commission.amount == D("50.88") and owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == D("50.88")
    assert_ledger_consistent()
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert "Order corrected to €368.90" in page and "€50.88" in page


def test_an_amount_only_correction_keeps_the_items_as_sent(world, web, cart):
    conversion, commission = cart
    response = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/",
                                           _form(_lines(CART), amount="229.89"))
    assert response.status_code == 302
    conversion.refresh_from_db()
    assert conversion.amount == D("229.89") and conversion.items == CART
    commission.refresh_from_db()
    assert commission.amount == D("36.98")


@pytest.mark.parametrize(("change", "message"), [
    ({"amount": "ten"}, "Enter an amount such as"),
    ({"amount": "-1.00"}, "Must be zero or more."),
    ({"amount": "1.001"}, "More decimal places than EUR has."),
    ({"amount": ""}, "Give the line&#x27;s amount."),
    ({"quantity": "0"}, "Ensure this value is greater than or equal to 1."),
    ({"sku": "X" * 129}, "Ensure this value has at most 128 characters"),
])
def test_a_bad_line_is_400_with_the_error_next_to_it(world, web, cart, change, message):
    conversion, commission = cart
    postings = Transaction.objects.count()
    lines = _lines(CART)
    lines[1].update(change)
    response = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", _form(lines))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    row = page[page.index('data-testid="adjust-line-1"'):page.index('data-testid="adjust-line-2"')]
    assert message in row  # next to the line's field
    _unchanged(conversion, commission, postings)


def test_lines_totalling_more_than_the_amount_and_nothing_changing_are_400(world, web, cart):
    conversion, commission = cart
    postings = Transaction.objects.count()
    client = web("a", "advertiser")
    too_much = client.post(f"/advertiser/conversions/{conversion.pk}/", _form(_lines(CART), amount="100.00"))
    assert too_much.status_code == 400 and "Less than the total of the order" in too_much.content.decode()
    lines = _lines(CART)
    lines[0]["amount"] = "139.90"
    more = client.post(f"/advertiser/conversions/{conversion.pk}/", _form(lines, amount="200.00"))
    assert more.status_code == 400 and "The items total more than" in more.content.decode()
    same = client.post(f"/advertiser/conversions/{conversion.pk}/", _form(_lines(CART)))
    assert same.status_code == 400 and "Nothing changes" in same.content.decode()
    _unchanged(conversion, commission, postings)


def test_add_a_line_shows_one_more_row_and_changes_nothing(world, web, cart):
    conversion, commission = cart
    postings = Transaction.objects.count()
    lines = _lines(CART)
    lines[0]["amount"] = "99.00"
    response = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/",
                                           _form(lines, add_line="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="items-TOTAL_FORMS" value="4"' in page and 'name="items-3-sku"' in page
    assert 'name="items-0-amount" value="99.00"' in page  # what was typed is kept
    _unchanged(conversion, commission, postings)


def test_another_networks_conversion_is_404_and_a_rejected_commission_is_refused(world, web, cart):
    conversion, commission = cart
    lines = _lines(CART)
    lines[0]["amount"] = "99.00"
    other = web("b", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", _form(lines))
    assert other.status_code == 404
    Commission.objects.filter(pk=commission.pk).update(status=Commission.Status.REJECTED)
    refused = web("a", "advertiser").post(f"/advertiser/conversions/{conversion.pk}/", _form(lines))
    assert refused.status_code == 400 and "was rejected" in refused.content.decode()
    assert Conversion.objects.get(pk=conversion.pk).items == CART


def test_the_correction_form_speaks_the_advertisers_language(world, web, cart):
    from network.models import User

    conversion, _ = cart
    User.objects.filter(pk=world.a.advertiser.membership.user.pk).update(language="pl")
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert "Dodaj pozycję" in page and "Pozycje zamówienia" in page


def _history(page):
    section = page[page.index('data-testid="conversion-history"'):]
    return section[:section.index("</article>")]


def test_the_page_shows_the_orders_history_refund_then_correction(world, web, cart):
    conversion, commission = cart
    client = web("a", "advertiser")
    refund = client.post(f"/advertiser/conversions/{conversion.pk}/", {"amount": "19.89"})
    assert refund.status_code == 302
    lines = _lines(CART)
    lines[2]["remove"] = "on"  # the socks go: 209.90
    assert client.post(f"/advertiser/conversions/{conversion.pk}/", _form(lines)).status_code == 302
    history = _history(client.get(f"/advertiser/conversions/{conversion.pk}/").content.decode())
    rows = [history.index(f'data-testid="history-{kind}"') for kind in ("recorded", "refunded", "corrected")]
    assert rows == sorted(rows)
    assert "Order recorded: €219.89." in history and "Refunded €19.89." in history
    assert "Order corrected: €219.89 → €209.90." in history and "Its lines changed." in history
    assert world.a.advertiser.membership.user.email in history  # who acted
    # A refused correction adds nothing to the history.
    bad = client.post(f"/advertiser/conversions/{conversion.pk}/", _form(_lines(CART), amount="100.00"))
    assert bad.status_code == 400
    assert _history(client.get(f"/advertiser/conversions/{conversion.pk}/").content.decode()).count(
        'data-testid="history-') == 3


def test_the_history_speaks_the_advertisers_language(world, web, cart):
    from network.models import User

    conversion, _ = cart
    User.objects.filter(pk=world.a.advertiser.membership.user.pk).update(language="pl")
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/").content.decode()
    assert "Historia zamówienia" in _history(page) and "Zamówienie zarejestrowane" in _history(page)
