"""Both postback paths make each decision of recording a conversion the same way: the key's validity, the input
checks, the click's attribution (window, program currency, advertiser), the fraud signals and the duplicate
order. Each row of the table is posted once through the fast path and once forced through the full path, at
the same frozen instant on the same data; status codes, bodies and rows must agree."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from network.auth import api_key_refusal, key_use_due
from network.models import ApiKey
from network.services import hash_api_key
from programs.models import Program
from tests.factories import make_advertiser, make_click, make_conversion, make_link, make_partnership, make_program
from tracking import api
from tracking.api import ConversionViewSet
from tracking.attribution import click_attributes
from tracking.fraud import duplicate_order_sql, evidence
from tracking.ids import click_id_time, new_click_id
from tracking.models import Conversion
from tracking.recording import amount_error, money_errors, program_currency_error

from .conversions_support import make_shop

pytestmark = pytest.mark.django_db
VOLATILE = {"id"}  # the time is frozen: created_at compares too


class _Rollback(Exception):
    pass


@pytest.fixture
def shop(world):
    shop = make_shop(world.a, fraud_policy=Program.FraudPolicy.HOLD, attribution_window_days=1)
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    return shop


def _repeat_same_click(world, shop, click, **fields):
    make_conversion(world.a.advertiser, order_id="EARLIER", amount="100.00", link=shop.link,
                    click_id=click.click_id, **fields)


# (name, whether the fast path answers it, setup(world, shop, click) -> None, body, client role)
CASES = [
    ("unattributed sale", True, None, {}, "advertiser"),
    ("lead without an amount", False, None, {"event": "lead", "amount": None}, "advertiser"),
    ("lead of zero", True, None, {"event": "lead", "amount": "0"}, "advertiser"),
    ("lower-case currency", True, None, {"currency": "eur"}, "advertiser"),
    ("click inside the window", True, None, {"click_id": "{click}"}, "advertiser"),
    ("click and an affiliate's coupon", True, None, {"click_id": "{click}", "coupon": "{coupon}"}, "advertiser"),
    ("click and an unknown coupon", True, None, {"click_id": "{click}", "coupon": "NOBODYS"}, "advertiser"),
    ("coupon alone", False, None, {"coupon": "{coupon}"}, "advertiser"),
    ("unknown coupon alone", False, None, {"coupon": "NOBODYS"}, "advertiser"),
    ("click outside the window", False, "old_click", {"click_id": "{click}"}, "advertiser"),
    ("click in another currency", False, None, {"click_id": "{click}", "currency": "USD"}, "advertiser"),
    ("another network's click", False, "foreign_click", {"click_id": "{click}"}, "advertiser"),
    ("another advertiser's click", False, "other_advertisers_click", {"click_id": "{click}"}, "advertiser"),
    ("bot, duplicate and too fast click", True, "suspicious_click", {"click_id": "{click}"}, "advertiser"),
    ("velocity click", True, "velocity_click", {"click_id": "{click}"}, "advertiser"),
    ("click outside the program's targeting", True, "off_target_click", {"click_id": "{click}"}, "advertiser"),
    ("duplicate order (same click and amount)", True, "earlier_order", {"click_id": "{click}"}, "advertiser"),
    ("same click, another amount", True, "earlier_order", {"click_id": "{click}", "amount": "99.00"}, "advertiser"),
    ("same click and amount a day ago", True, "earlier_order_a_day_ago", {"click_id": "{click}"}, "advertiser"),
    ("same click and amount, rejected earlier", True, "rejected_earlier_order", {"click_id": "{click}"},
     "advertiser"),
    ("repeated order id", False, "same_order_id", {}, "advertiser"),
    ("repeated order id, another amount", False, "same_order_id", {"amount": "12.00"}, "advertiser"),
    ("negative amount", False, None, {"amount": "-1"}, "advertiser"),
    ("too many decimals", False, None, {"amount": "1.001"}, "advertiser"),
    ("decimals in a currency without them", False, "jpy_program", {"amount": "5.5", "currency": "JPY"},
     "advertiser"),
    ("too large", False, None, {"amount": "1000000000000"}, "advertiser"),
    ("float amount", False, None, {"amount": 1.5}, "advertiser"),
    ("unknown currency", False, None, {"currency": "XYZ"}, "advertiser"),
    ("malformed click id", False, None, {"click_id": "bad"}, "advertiser"),
    ("padded order id", False, None, {"order_id": " padded "}, "advertiser"),
    ("unknown event", False, None, {"event": "refund"}, "advertiser"),
    ("a list as event", False, None, {"event": ["sale"]}, "advertiser"),
    ("revoked key", False, "revoked_key", {}, "advertiser"),
    ("suspended membership", False, "suspended_membership", {}, "advertiser"),
    ("affiliate key", False, None, {}, "affiliate"),
    ("key not used for a while", False, "stale_key", {}, "advertiser"),
]


def _click(link, now, ago=timedelta(minutes=5), **fields):
    """A click `ago` before the frozen `now`, with the same id in both runs."""
    when = now - ago
    click_id = new_click_id(int(when.timestamp() * 1000)) if not _IDS.get(ago) else _IDS[ago]
    _IDS[ago] = click_id
    return make_click(link, click_id=click_id, created_at=click_id_time(click_id), sub1=link.sub1, sub2=link.sub2,
                      **fields)


_IDS: dict = {}


def _setup(name, world, shop, now):
    """The case's data; returns the click whose id the body names."""
    if name == "old_click":
        return _click(shop.link, now, ago=timedelta(days=2))
    if name == "foreign_click":
        return _click(make_shop(world.b).link, now)
    if name == "other_advertisers_click":
        other, _ = make_advertiser(world.a.network, "Other shop", "other-shop@alpha.test")
        program = make_program(other, name="Other")
        return _click(make_link(make_partnership(program, world.a.affiliate)), now)
    if name == "suspicious_click":
        return _click(shop.link, now, ago=timedelta(seconds=2), is_bot=True, is_unique=False)
    if name == "velocity_click":
        return _click(shop.link, now, velocity_count=25)
    if name == "off_target_click":
        return _click(shop.link, now, country="US", device="mobile", off_target="country_blocked")
    click = _click(shop.link, now)
    if name is None:
        pass
    elif name in ("earlier_order", "rejected_earlier_order"):
        status = Conversion.Status.REJECTED if name.startswith("rejected") else Conversion.Status.ACCEPTED
        _repeat_same_click(world, shop, click, status=status)
        Conversion.objects.filter(order_id="EARLIER").update(created_at=now - timedelta(hours=2))
    elif name == "earlier_order_a_day_ago":
        _repeat_same_click(world, shop, click)
        Conversion.objects.filter(order_id="EARLIER").update(created_at=now - timedelta(hours=24, minutes=1))
    elif name == "same_order_id":
        make_conversion(world.a.advertiser, order_id="ORD-1", amount="100.00")
    elif name == "jpy_program":
        make_program(world.a.advertiser, currency="JPY", name="Yen shop")
    elif name == "revoked_key":
        ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(revoked_at=now)
    elif name == "suspended_membership":
        type(world.a.advertiser.membership).objects.filter(pk=world.a.advertiser.membership_id).update(
            is_active=False)
    elif name == "stale_key":
        ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(
            last_used_at=now - timedelta(hours=1))
    return click


def _body(body, click, shop):
    filled = {}
    for name, value in body.items():
        if value == "{click}":
            value = click.click_id
        elif value == "{coupon}":
            value = shop.coupon.code
        filled[name] = value
    return filled


def _post(world, shop, setup, body, role, monkeypatch, *, full: bool):
    """Post in a transaction rolled back afterwards: (status, body without volatile keys, conversion rows, whether
    the full view ran)."""
    from tracking.postback_fast import forget_keys

    full_calls = []
    original = ConversionViewSet.create

    def spy(self, request, *args, **kwargs):
        full_calls.append(True)
        return original(self, request, *args, **kwargs)

    answer = {}
    try:
        with transaction.atomic(), monkeypatch.context() as patch:
            patch.setattr(ConversionViewSet, "create", spy)
            if full:
                patch.setattr(api, "postback_fast", lambda request: None)
            forget_keys()
            click = _setup(setup, world, shop, timezone.now())
            earlier = set(Conversion.objects.values_list("pk", flat=True))
            sent = {"order_id": "ORD-1", "amount": "100.00", "currency": "EUR"} | _body(body, click, shop)
            sent = {name: value for name, value in sent.items() if value is not None}
            response = world.a.client(role).post("/api/v1/conversions", sent, format="json")
            data = response.json()
            if isinstance(data, dict) and "id" in data:
                # Ids differ between the runs (sequences do not roll back): say which row answered instead.
                data = {key: value for key, value in data.items() if key not in VOLATILE} | {
                    "answered_with_an_earlier_row": data["id"] in earlier}
            rows = [{key: value for key, value in row.items() if key not in VOLATILE}
                    for row in Conversion.objects.order_by("order_id").values()]
            answer = {"status": response.status_code, "body": data, "rows": rows, "full_view": bool(full_calls)}
            raise _Rollback
    except _Rollback:
        pass
    return answer


@pytest.fixture
def frozen_now(monkeypatch):
    _IDS.clear()
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


@pytest.mark.parametrize(("name", "fast", "setup", "body", "role"), CASES, ids=[case[0] for case in CASES])
def test_both_paths_decide_each_case_the_same(world, shop, monkeypatch, frozen_now, name, fast, setup, body, role):
    through_fast = _post(world, shop, setup, body, role, monkeypatch, full=False)
    through_full = _post(world, shop, setup, body, role, monkeypatch, full=True)
    assert through_full["full_view"] or through_full["status"] in (401, 403)
    assert through_fast["full_view"] is (not fast and through_fast["status"] not in (401, 403)), (
        "the table says which path answers: keep it true, so the fast path's decisions are the ones compared")
    assert through_fast["status"] == through_full["status"]
    assert through_fast["body"] == through_full["body"]
    assert through_fast["rows"] == through_full["rows"]


def test_the_table_covers_each_decision_on_the_fast_path():
    fast_names = {name for name, fast, *_ in CASES if fast}
    assert {"click inside the window", "bot, duplicate and too fast click", "velocity click",
            "duplicate order (same click and amount)", "same click and amount a day ago"} <= fast_names


# --- the shared functions over plain values ---------------------------------------------------------------------
def test_key_refusal_and_use():
    assert api_key_refusal(revoked=False, membership_active=True, user_active=True) is None
    assert api_key_refusal(revoked=True, membership_active=True, user_active=True) == "Invalid or revoked API key."
    for membership_active, user_active in ((False, True), (True, False)):
        assert api_key_refusal(revoked=False, membership_active=membership_active,
                               user_active=user_active) == "This API key's membership is suspended."
    now = timezone.now()
    assert key_use_due(None, now) and key_use_due(now - timedelta(minutes=2), now)
    assert not key_use_due(now - timedelta(seconds=30), now)


@pytest.mark.parametrize(("amount", "currency", "error"), [
    ("10.00", "EUR", None), ("0", "EUR", None), ("-1", "EUR", "Must not be negative."),
    ("1.001", "EUR", "Has more decimal places than EUR allows (2)."), ("5", "JPY", None),
    ("5.5", "JPY", "Has more decimal places than JPY allows (0)."), ("1000000000000", "EUR", "Too large."),
])
def test_amount_error(amount, currency, error):
    assert amount_error(Decimal(amount), currency) == error


def test_money_errors_name_the_currency_first():
    assert money_errors(amount=Decimal("-1"), currency="XYZ") == {
        "currency": ["'XYZ' is not an ISO 4217 currency code."]}
    assert money_errors(amount=Decimal("-1"), currency="EUR") == {"amount": ["Must not be negative."]}
    assert money_errors(amount=Decimal("1"), currency="EUR") is None


def test_program_currency_and_click_attribution():
    assert program_currency_error(program_name="P", program_currency="EUR", currency="EUR") is None
    assert program_currency_error(program_name="P", program_currency="EUR", currency="USD") == {
        "currency": ["The program 'P' is in EUR; this conversion says USD."]}
    now = timezone.now()
    inside = {"clicked_at": now - timedelta(hours=1), "window_days": 1, "now": now}
    assert click_attributes(program_advertiser_id=1, advertiser_id=1, **inside)
    assert not click_attributes(program_advertiser_id=2, advertiser_id=1, **inside)
    assert not click_attributes(program_advertiser_id=1, advertiser_id=1, clicked_at=now - timedelta(days=2),
                                window_days=1, now=now)


def test_evidence_keeps_one_order():
    now = timezone.now()
    details = evidence(now=now, click={"clicked_at": now, "is_bot": True, "is_unique": True},
                       self_referral={"code": "self_referral"}, duplicate_order=True)
    assert [detail["code"] for detail in details] == ["too_fast", "bot_click", "self_referral", "duplicate_order"]
    assert evidence(now=now) == []


def test_the_duplicate_order_predicate_takes_only_buyer_columns():
    assert "v.click_id = %s" in duplicate_order_sql(("click_id",))
    assert "v.id <> %s" in duplicate_order_sql(("customer_id", "click_id"), exclude=True)
    for bad in ((), ("order_id",), ("click_id; DROP TABLE x",)):
        with pytest.raises(ValueError):
            duplicate_order_sql(bad)
