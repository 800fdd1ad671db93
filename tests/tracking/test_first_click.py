"""Attribution model per program: with `first_click` the visitor's first click on the program within the window
earns the conversion even when the postback names a later one (both postback paths), the setting in the API, the
explanation, and track.js keeping the first click id of the window."""

import json
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from commissions.services import commissions_for_conversion
from programs.models import Program
from tests.factories import make_click, make_link, make_partnership, make_program
from tests.pages import web_client
from tracking.ids import click_id_time, new_click_id
from tracking.models import Conversion
from tracking.services import conversion_attribute_pending

from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db

VISITOR, OTHER_VISITOR = "a" * 64, "b" * 64


@pytest.fixture
def shop(world):
    return make_shop(world.a, attribution_model="first_click", attribution_window_days=30)


def _another_program(tenant, **fields) -> SimpleNamespace:
    """A second program of the advertiser with both affiliates' links (make_shop's coupon is one per network)."""
    program = make_program(tenant.advertiser, name="Other", **fields)
    return SimpleNamespace(program=program, link=make_link(make_partnership(program, tenant.affiliate)),
                           link2=make_link(make_partnership(program, tenant.affiliate2)))


def _clicks(shop, *, first_ago=timedelta(days=3), first_visitor=VISITOR, **first_fields):
    """The visitor clicked affiliate 2's link first, then (an hour ago) affiliate 1's."""
    first = click_at(shop.link2, ago=first_ago, ip_hash=first_visitor, **first_fields)
    later = click_at(shop.link, ago=timedelta(hours=1), ip_hash=VISITOR)
    return first, later


# --- the API setting ---------------------------------------------------------------------------------------------
def test_programs_take_and_show_the_attribution_model(world):
    body = {"name": "P", "landing_url": "https://shop.example.com/", "attribution_model": "first_click",
            "rules": [{"event": "sale", "kind": "percent", "payout": "10"}]}
    client = world.a.client("advertiser")
    response = client.post("/api/v1/programs", body, format="json")
    assert response.status_code == 201 and response.json()["attribution_model"] == "first_click"
    program_id = response.json()["id"]
    response = client.patch(f"/api/v1/programs/{program_id}", {"attribution_model": "last_click"}, format="json")
    assert response.status_code == 200 and response.json()["attribution_model"] == "last_click"
    assert Program.objects.get(pk=program_id).attribution_model == "last_click"
    default = client.post("/api/v1/programs", body | {"name": "Q", "attribution_model": None}, format="json")
    assert default.status_code == 400  # null is not a model


@pytest.mark.parametrize("value", ["middle_click", "", 1, ["first_click"]])
def test_an_unknown_attribution_model_is_400_and_changes_nothing(world, shop, value):
    response = world.a.client("advertiser").patch(f"/api/v1/programs/{shop.program.pk}",
                                                  {"attribution_model": value}, format="json")
    assert response.status_code == 400 and "attribution_model" in response.json()
    assert Program.objects.get(pk=shop.program.pk).attribution_model == "first_click"


# --- the server's decision (full path) ---------------------------------------------------------------------------
def test_first_click_program_credits_the_visitors_first_click_when_the_postback_names_a_later_one(
        world, shop, full_view_calls):
    first, later = _clicks(shop)
    response = post_conversion(world.a.client("advertiser"), order_id="O-1", click_id=later.click_id,
                               customer_id="cust-1")  # a field the fast path leaves to the full view
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["affiliate"] == world.a.affiliate2.pk and body["link"] == shop.link2.pk
    assert body["click_id"] == later.click_id and body["first_click_id"] == first.click_id
    conversion = Conversion.objects.get(pk=body["id"])
    assert conversion.clicked_at == first.created_at and conversion.partnership_id == shop.partnership2.pk
    [commission] = commissions_for_conversion(conversion_id=conversion.pk)  # as the on-commit task does
    assert commission.affiliate_id == world.a.affiliate2.pk and commission.amount == Decimal("10.00")
    assert full_view_calls == ["O-1"]


def test_last_click_program_credits_the_click_the_postback_names(world):
    shop = make_shop(world.a)  # last_click: the default
    _clicks(shop)
    later = click_at(shop.link, ago=timedelta(minutes=30), ip_hash=VISITOR)
    body = post_conversion(world.a.client("advertiser"), click_id=later.click_id).json()
    assert body["affiliate"] == world.a.affiliate.pk and body["first_click_id"] == ""


@pytest.mark.parametrize(("case", "first_fields"), [
    ("outside the window", {"first_ago": timedelta(days=31)}),
    ("another visitor", {"first_visitor": OTHER_VISITOR}),
    ("a bot click", {"is_bot": True}),
])
def test_clicks_that_never_take_the_credit(world, shop, case, first_fields):
    _first, later = _clicks(shop, **first_fields)
    body = post_conversion(world.a.client("advertiser"), click_id=later.click_id).json()
    assert body["affiliate"] == world.a.affiliate.pk and body["first_click_id"] == "", case


def test_another_programs_click_never_takes_the_credit(world, shop):
    other = _another_program(world.a, attribution_model="first_click")
    click_at(other.link2, ago=timedelta(days=2), ip_hash=VISITOR)
    later = click_at(shop.link, ago=timedelta(hours=1), ip_hash=VISITOR)
    body = post_conversion(world.a.client("advertiser"), click_id=later.click_id).json()
    assert body["program"] == shop.program.pk and body["affiliate"] == world.a.affiliate.pk


def test_another_networks_click_of_the_same_visitor_never_takes_the_credit(world, shop):
    theirs = make_shop(world.b, attribution_model="first_click")
    click_at(theirs.link, ago=timedelta(days=2), ip_hash=VISITOR)
    later = click_at(shop.link, ago=timedelta(hours=1), ip_hash=VISITOR)
    body = post_conversion(world.a.client("advertiser"), click_id=later.click_id).json()
    assert body["affiliate"] == world.a.affiliate.pk and body["first_click_id"] == ""


def test_the_first_of_several_earlier_clicks_wins(world, shop):
    third = make_link(shop.partnership, sub1="x")
    earliest = click_at(shop.link2, ago=timedelta(days=10), ip_hash=VISITOR)
    click_at(third, ago=timedelta(days=5), ip_hash=VISITOR)
    later = click_at(shop.link, ago=timedelta(hours=1), ip_hash=VISITOR)
    body = post_conversion(world.a.client("advertiser"), click_id=later.click_id).json()
    assert body["first_click_id"] == earliest.click_id and body["affiliate"] == world.a.affiliate2.pk


# --- both postback paths decide alike ----------------------------------------------------------------------------
def test_the_fast_path_leaves_last_click_programs_alone_and_hands_first_click_changes_to_the_full_view(
        world, shop, full_view_calls):
    client = world.a.client("advertiser")
    _first, later = _clicks(shop)
    changed = post_conversion(client, order_id="FIRST", click_id=later.click_id)
    assert changed.json()["affiliate"] == world.a.affiliate2.pk
    assert full_view_calls == ["FIRST"]  # the fast path found the earlier click and handed the order on
    lone = click_at(shop.link, ago=timedelta(minutes=10), ip_hash=OTHER_VISITOR)
    same = post_conversion(client, order_id="ALONE", click_id=lone.click_id)
    assert same.status_code == 201 and same.json()["affiliate"] == world.a.affiliate.pk
    assert full_view_calls == ["FIRST"]  # nothing earlier: the fast path recorded it itself
    plain = _another_program(world.a)
    _clicks(plain)
    latest = click_at(plain.link, ago=timedelta(minutes=5), ip_hash=VISITOR)
    assert post_conversion(client, order_id="LAST", click_id=latest.click_id).json()["affiliate"] == \
        world.a.affiliate.pk
    assert full_view_calls == ["FIRST"]


def test_a_click_ingested_after_the_postback_is_attributed_by_the_same_decision(world, shop):
    first = click_at(shop.link2, ago=timedelta(days=2), ip_hash=VISITOR)
    later_id = new_click_id()
    response = post_conversion(world.a.client("advertiser"), order_id="LATE", click_id=later_id)
    assert response.json()["attribution_pending"] is True
    make_click(shop.link, click_id=later_id, created_at=click_id_time(later_id), ip_hash=VISITOR)
    conversion_attribute_pending(conversion_id=response.json()["id"])
    conversion = Conversion.objects.get(pk=response.json()["id"])
    assert conversion.affiliate_id == world.a.affiliate2.pk and conversion.first_click_id == first.click_id


# --- explanation -------------------------------------------------------------------------------------------------
def test_the_explanation_shows_the_first_click_and_says_why(world, shop):
    first, later = _clicks(shop)
    body = post_conversion(world.a.client("advertiser"), click_id=later.click_id).json()
    [commission] = commissions_for_conversion(conversion_id=body["id"])
    e = world.a.client("advertiser").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    assert e["click"]["click_id"] == first.click_id and e["click"]["reported_click_id"] == later.click_id
    assert e["attribution"]["model"] == "first_click"
    assert "first click wins" in e["attribution"]["reason"] and later.click_id in e["attribution"]["reason"]


def test_the_integration_snippet_carries_the_model(world, shop):
    page = web_client(world.a.advertiser).get(f"/advertiser/integration/?program={shop.program.pk}")
    assert page.status_code == 200
    assert 'data-attribution="first_click"' in page.content.decode()


# --- track.js ----------------------------------------------------------------------------------------------------
SNIPPET = Path(__file__).resolve().parents[2] / "static" / "js" / "track.js"
HARNESS = """
const fs = require("fs");
const [file, search, dataset, kept] = process.argv.slice(1);
const jar = {}; const storage = {};
if (kept) { jar["afn_click_id"] = kept; }
global.window = {location: {search: search, protocol: "https:"},
  localStorage: {getItem: k => storage[k] ?? null, setItem: (k, v) => { storage[k] = v; }}};
global.document = {readyState: "complete", currentScript: {dataset: JSON.parse(dataset)},
  get cookie() { return Object.entries(jar).map(([k, v]) => k + "=" + v).join("; "); },
  set cookie(value) { const [pair] = value.split("; "); const [k, v] = pair.split("="); jar[k] = v; },
  querySelectorAll: () => [], addEventListener: () => {}};
eval(fs.readFileSync(file, "utf8"));
console.log(JSON.stringify({id: window.AffiliateTracking.getClickId(),
  model: window.AffiliateTracking.attribution}));
"""


def _track(search: str, dataset: dict, kept: str = "") -> dict:
    out = subprocess.run(["node", "-e", HARNESS, str(SNIPPET), search, json.dumps(dataset), kept],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_track_js_keeps_the_first_click_id_of_the_window_with_first_click():
    kept, fresh = new_click_id(), new_click_id()
    assert _track(f"?click_id={fresh}", {"attribution": "first_click"}, kept) == {"id": kept, "model": "first_click"}
    assert _track(f"?click_id={fresh}", {"attribution": "first_click"}) == {"id": fresh, "model": "first_click"}
    # Last click (the default, or said): the newest click id replaces the kept one.
    assert _track(f"?click_id={fresh}", {}, kept) == {"id": fresh, "model": "last_click"}
    assert _track(f"?click_id={fresh}", {"attribution": "last_click"}, kept)["id"] == fresh
