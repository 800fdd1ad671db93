"""Program targeting through the API and the advertiser's program pages: stored normalized, refused with field
errors (nothing changed), scoped to the network and the advertiser, shown to affiliates, and read by the redirect
at once."""

import pytest

from programs.models import Program
from tests.factories import make_advertiser, make_link, make_partnership, make_program
from tests.pages import web_client
from tests.tracking.clicks_support import visit
from tracking import clicks

pytestmark = pytest.mark.django_db

PROGRAM = {"name": "Alps Gear", "landing_url": "https://shop.example.com/", "currency": "EUR",
           "rules": [{"event": "sale", "kind": "percent", "payout": "10"}]}
NONE = {"countries_allowed": [], "countries_blocked": [], "devices": []}


@pytest.fixture(autouse=True)
def _direct_clicks(settings):
    settings.CLICK_QUEUE_URL = ""
    clicks.clear_local_cache()
    yield
    clicks.clear_local_cache()


def test_a_program_has_no_targeting_by_default(world):
    created = world.a.client("advertiser").post("/api/v1/programs", PROGRAM, format="json")
    assert created.status_code == 201 and created.json()["targeting"] == NONE


def test_targeting_is_stored_normalized(world):
    body = PROGRAM | {"targeting": {"countries_allowed": ["at", "DE", "de", " ch "], "devices": ["tablet", "mobile"]}}
    created = world.a.client("advertiser").post("/api/v1/programs", body, format="json")
    assert created.status_code == 201, created.content
    expected = {"countries_allowed": ["AT", "CH", "DE"], "countries_blocked": [], "devices": ["mobile", "tablet"]}
    assert created.json()["targeting"] == expected
    assert Program.objects.get(pk=created.json()["id"]).targeting == expected


def test_patch_replaces_the_targeting_and_the_redirect_follows_at_once(world):
    program = make_program(world.a.advertiser, landing_url="https://shop.example.com/start")
    link = make_link(make_partnership(program, world.a.affiliate))
    assert "click_id" in visit(f"/c/{link.code}", ip="8.8.8.8").params  # cached without targeting
    client = world.a.client("advertiser")
    response = client.patch(f"/api/v1/programs/{program.pk}",
                            {"targeting": {"countries_blocked": ["US"]}, "fallback_url": "https://shop.example.com/x"},
                            format="json")
    assert response.status_code == 200, response.content
    assert response.json()["targeting"] == NONE | {"countries_blocked": ["US"]}
    assert visit(f"/c/{link.code}", ip="8.8.8.8").location == "https://shop.example.com/x"
    response = client.patch(f"/api/v1/programs/{program.pk}", {"targeting": {"devices": ["desktop"]}}, format="json")
    assert response.json()["targeting"] == NONE | {"devices": ["desktop"]}  # a whole new targeting
    assert "click_id" in visit(f"/c/{link.code}", ip="8.8.8.8").params


@pytest.mark.parametrize(("targeting", "field"), [
    ({"countries_allowed": ["XX"]}, "countries_allowed"),
    ({"countries_allowed": ["DEU"]}, "countries_allowed"),
    ({"countries_blocked": ["UK"]}, "countries_blocked"),
    ({"countries_blocked": [12]}, "countries_blocked"),
    ({"countries_allowed": "DE"}, "countries_allowed"),
    ({"devices": ["phone"]}, "devices"),
    ({"countries_allowed": ["DE"], "countries_blocked": ["de"]}, "countries_blocked"),
    ({"countries_allowed": ["DE"] * 301}, "countries_allowed"),
])
def test_bad_targeting_is_a_field_error_and_changes_nothing(world, targeting, field):
    program = make_program(world.a.advertiser, targeting={"countries_allowed": ["FR"]})
    client = world.a.client("advertiser")
    response = client.patch(f"/api/v1/programs/{program.pk}", {"targeting": targeting, "name": "Renamed"},
                            format="json")
    assert response.status_code == 400
    assert field in response.json()["targeting"], response.json()
    program.refresh_from_db()
    assert program.name == "Outdoor Gear" and program.targeting == {"countries_allowed": ["FR"]}
    created = client.post("/api/v1/programs", PROGRAM | {"targeting": targeting}, format="json")
    assert created.status_code == 400 and field in created.json()["targeting"]
    assert not Program.objects.filter(name="Alps Gear").exists()


def test_unknown_country_code_message_names_the_code(world):
    response = world.a.client("advertiser").post(
        "/api/v1/programs", PROGRAM | {"targeting": {"countries_allowed": ["DE", "ZZ"]}}, format="json")
    assert response.json() == {"targeting": {"countries_allowed": [
        "'ZZ' is not an ISO 3166-1 alpha-2 country code."]}}


@pytest.mark.parametrize("targeting", [["DE"], "DE", None])
def test_targeting_that_is_not_an_object_is_a_400(world, targeting):
    response = world.a.client("advertiser").post("/api/v1/programs", PROGRAM | {"targeting": targeting},
                                                 format="json")
    assert response.status_code == 400 and "targeting" in response.json()


def test_another_networks_or_advertisers_program_is_404_and_unchanged(world, anon):
    foreign = make_program(world.b.advertiser)
    other, _ = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    neighbour = make_program(other)
    body = {"targeting": {"countries_blocked": ["US"]}}
    client = world.a.client("advertiser")
    assert client.patch(f"/api/v1/programs/{foreign.pk}", body, format="json").status_code == 404
    assert client.patch(f"/api/v1/programs/{neighbour.pk}", body, format="json").status_code == 404
    assert world.a.client("affiliate").patch(f"/api/v1/programs/{neighbour.pk}", body,
                                             format="json").status_code in (403, 404)
    assert anon.patch(f"/api/v1/programs/{neighbour.pk}", body, format="json").status_code == 401
    assert Program.objects.get(pk=foreign.pk).targeting == {}
    assert Program.objects.get(pk=neighbour.pk).targeting == {}


def test_affiliates_read_the_targeting_of_their_programs(world):
    program = make_program(world.a.advertiser, targeting={"countries_allowed": ["DE"], "devices": ["mobile"]})
    make_partnership(program, world.a.affiliate)
    listed = world.a.client("affiliate").get("/api/v1/programs").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    row = next(row for row in rows if row["id"] == program.pk)
    assert row["targeting"] == {"countries_allowed": ["DE"], "countries_blocked": [], "devices": ["mobile"]}


# --- pages ---------------------------------------------------------------------------------------------------------
def _form(program, **fields):
    return {"name": program.name, "landing_url": program.landing_url, "approval": "manual", "visibility": "public",
            "attribution_window_days": "30", "hold_days": "30", "fraud_policy": "hold", "rules-TOTAL_FORMS": "0",
            **fields}


def test_the_advertiser_sets_targeting_on_the_program_form(world):
    program = make_program(world.a.advertiser)
    client = web_client(world.a.advertiser)
    page = client.get(f"/advertiser/programs/{program.pk}/edit/").content.decode()
    assert 'name="countries_allowed"' in page and 'name="devices"' in page
    response = client.post(f"/advertiser/programs/{program.pk}/edit/",
                           _form(program, countries_allowed="de, at", devices=["mobile", "tablet"]))
    assert response.status_code == 302, response.content.decode()[:3000]
    program.refresh_from_db()
    assert program.targeting == {"countries_allowed": ["AT", "DE"], "countries_blocked": [],
                                 "devices": ["mobile", "tablet"]}
    detail = client.get(f"/advertiser/programs/{program.pk}/").content.decode()
    assert "Only visitors from: Austria (AT), Germany (DE)" in detail and "Only on: mobile, tablet" in detail
    edit = client.get(f"/advertiser/programs/{program.pk}/edit/").content.decode()
    assert 'value="AT, DE"' in edit


def test_a_bad_country_on_the_form_is_shown_next_to_its_field(world):
    program = make_program(world.a.advertiser, targeting={"countries_blocked": ["US"]})
    client = web_client(world.a.advertiser)
    response = client.post(f"/advertiser/programs/{program.pk}/edit/", _form(program, countries_blocked="US XX"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "&#x27;XX&#x27; is not an ISO 3166-1 alpha-2 country code." in page
    assert page.index("&#x27;XX&#x27; is not") > page.index('name="countries_allowed"')
    program.refresh_from_db()
    assert program.targeting == {"countries_blocked": ["US"]}
    assert web_client(world.b.advertiser).get(f"/advertiser/programs/{program.pk}/edit/").status_code == 404


def test_affiliates_see_the_targeting_on_their_program_pages(world):
    program = make_program(world.a.advertiser, targeting={"countries_blocked": ["RU"], "devices": ["desktop"]})
    make_partnership(program, world.a.affiliate)
    client = web_client(world.a.affiliate)
    mine = client.get("/partner/programs/").content.decode()
    assert "Not visitors from: Russian Federation (RU)" in mine and "Only on: desktop" in mine
    market = web_client(world.a.affiliate2).get("/partner/marketplace/").content.decode()
    assert "Not visitors from: Russian Federation (RU)" in market
    plain = make_program(world.a.advertiser, name="Anywhere")
    make_partnership(plain, world.a.affiliate)
    assert "Every country and device" in client.get("/partner/programs/").content.decode()
