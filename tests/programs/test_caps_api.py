"""Caps through the API: `caps` on programs and partnerships, what is left (`caps_status`), bad input answered 400
by field with nothing changed, and another network's or advertiser's partnership answering 404."""

from decimal import Decimal

import pytest

from commissions.models import Commission
from network.models import AuditLog
from programs.models import Partnership, Program
from tests.commissions.helpers import convert
from tests.factories import make_advertiser, make_link, make_partnership, make_program

pytestmark = pytest.mark.django_db
RULES = [{"event": "sale", "kind": "fixed", "payout": "10"}]


def _create(tenant, **body):
    body = {"name": "Bikes", "landing_url": "https://shop.example.com/", "rules": RULES} | body
    return tenant.client("advertiser").post("/api/v1/programs", body, format="json")


def test_a_program_is_created_with_caps_in_their_stored_shape(world):
    response = _create(world.a, caps={"conversions_day": 100, "payout_month": "500", "action": "pause"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["caps"] == {"conversions_day": 100, "conversions_month": None, "payout_month": "500.00",
                            "action": "pause"}
    status = body["caps_status"]
    assert status["scope"] == "program" and status["action"] == "pause" and status["paused_until"] is None
    assert status["conversions_day"]["remaining"] == "100" and status["conversions_month"] is None
    assert status["payout_month"] == {"limit": "500.00", "used": "0.00", "remaining": "500.00",
                                      "resets_at": status["payout_month"]["resets_at"]}
    assert _create(world.a, name="No caps").json()["caps"] is None


def test_caps_default_to_hold_and_null_clears_them(world):
    program = make_program(world.a.advertiser)
    client = world.a.client("advertiser")
    response = client.patch(f"/api/v1/programs/{program.pk}", {"caps": {"conversions_month": 3}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["caps"]["action"] == "hold"
    response = client.patch(f"/api/v1/programs/{program.pk}", {"caps": None}, format="json")
    assert response.json()["caps"] is None and response.json()["caps_status"] is None


@pytest.mark.parametrize(("caps", "field"), [
    ({"conversions_day": -1}, "conversions_day"),
    ({"conversions_month": "many"}, "conversions_month"),
    ({"payout_month": "-5.00"}, "payout_month"),
    ({"payout_month": "1.234"}, "payout_month"),
    ({"payout_month": 12.5}, "payout_month"),
    ({"action": "stop"}, "action"),
    ({"conversions_week": 5}, "conversions_week"),
])
def test_bad_caps_are_400_by_field_and_change_nothing(world, caps, field):
    program = make_program(world.a.advertiser, caps={"conversions_day": 7, "conversions_month": None,
                                                     "payout_month": None, "action": "hold"})
    response = world.a.client("advertiser").patch(f"/api/v1/programs/{program.pk}", {"caps": caps}, format="json")
    assert response.status_code == 400
    assert field in response.json()["caps"], response.json()
    assert Program.objects.get(pk=program.pk).caps["conversions_day"] == 7
    assert _create(world.a, caps=caps).status_code == 400
    assert response.json()["caps"] and not Program.objects.filter(name="Bikes").exists()


def test_caps_that_are_not_an_object_are_400(world):
    assert _create(world.a, caps=[1, 2]).status_code == 400
    assert _create(world.a, caps="10").status_code == 400


def test_the_advertiser_sets_a_partnerships_own_caps(world):
    program = make_program(world.a.advertiser, caps={"conversions_day": 1, "conversions_month": None,
                                                     "payout_month": None, "action": "reject"})
    partnership = make_partnership(program, world.a.affiliate)
    url = f"/api/v1/partnerships/{partnership.pk}"
    response = world.a.client("advertiser").patch(url, {"caps": {"conversions_day": 5, "action": "hold"}},
                                                  format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["caps"] == {"conversions_day": 5, "conversions_month": None, "payout_month": None, "action": "hold"}
    assert body["caps_status"]["scope"] == "partnership" and body["caps_status"]["conversions_day"]["limit"] == "5"
    assert AuditLog.objects.filter(action="partnership.caps_set", target_id=str(partnership.pk)).exists()
    # The affiliate reads what is left for it (its partnership's caps), on the program and the partnership.
    affiliate = world.a.client("affiliate")
    assert affiliate.get(f"/api/v1/programs/{program.pk}").json()["caps_status"]["conversions_day"]["remaining"] == "5"
    assert affiliate.get(url).json()["caps"]["conversions_day"] == 5
    link = make_link(Partnership.objects.get(pk=partnership.pk))
    convert(world.a, link, "P-1", "20.00")
    assert affiliate.get(url).json()["caps_status"]["conversions_day"]["remaining"] == "4"
    # Back to the program's caps.
    response = world.a.client("owner").patch(url, {"caps": None}, format="json")
    assert response.status_code == 200 and response.json()["caps"] is None
    assert response.json()["caps_status"]["scope"] == "program"
    assert Commission.objects.filter(conversion__order_id="P-1").get().status == "pending"


def test_partnership_caps_bad_input_roles_and_tenancy(world):
    program = make_program(world.a.advertiser)
    partnership = make_partnership(program, world.a.affiliate)
    url = f"/api/v1/partnerships/{partnership.pk}"
    advertiser = world.a.client("advertiser")
    response = advertiser.patch(url, {"caps": {"conversions_day": -1, "action": "explode"}}, format="json")
    assert response.status_code == 400
    assert set(response.json()["caps"]) == {"conversions_day", "action"}
    # A PATCH changes what it names: an empty one changes nothing (as the schema's partial body allows).
    unchanged = advertiser.patch(url, {}, format="json")
    assert unchanged.status_code == 200 and unchanged.json()["caps"] is None
    response = advertiser.patch(url, {"caps": {"payout_month": "0.001"}}, format="json")
    assert response.status_code == 400 and "payout_month" in response.json()["caps"]
    assert Partnership.objects.get(pk=partnership.pk).caps is None
    good = {"caps": {"conversions_day": 2}}
    assert world.a.client("affiliate").patch(url, good, format="json").status_code == 403
    assert world.b.client("advertiser").patch(url, good, format="json").status_code == 404
    assert world.b.client("owner").patch(url, good, format="json").status_code == 404
    other, issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    from tests.conftest import api_client

    assert api_client(issued.raw).patch(url, good, format="json").status_code == 404
    assert Partnership.objects.get(pk=partnership.pk).caps is None


def test_another_networks_program_caps_are_404(world):
    program = make_program(world.b.advertiser)
    response = world.a.client("advertiser").patch(f"/api/v1/programs/{program.pk}",
                                                  {"caps": {"conversions_day": 1}}, format="json")
    assert response.status_code == 404
    assert Program.objects.get(pk=program.pk).caps is None


def test_the_catalogue_lists_the_cap_event(world):
    rows = {row["type"]: row for row in world.a.client("advertiser").get("/api/v1/webhook-events").json()}
    example = rows["program.cap_reached"]
    assert example["audience"] == "advertiser"
    assert {"program", "cap", "level", "limit", "used", "action", "period_start", "period_end"} <= set(
        example["example"]["data"])


def test_remaining_budget_is_in_the_programs_currency(world):
    program = make_program(world.a.advertiser, currency="JPY", rules=[
        {"event": "sale", "kind": "fixed", "payout": Decimal("300")}],
        caps={"conversions_day": None, "conversions_month": None, "payout_month": "1000", "action": "hold"})
    link = make_link(make_partnership(program, world.a.affiliate))
    convert(world.a, link, "Y-1", "3000", currency="JPY")
    status = world.a.client("advertiser").get(f"/api/v1/programs/{program.pk}").json()["caps_status"]
    assert status["payout_month"]["used"] == "300" and status["payout_month"]["remaining"] == "700"
    response = world.a.client("advertiser").patch(f"/api/v1/programs/{program.pk}",
                                                  {"caps": {"payout_month": "10.50"}}, format="json")
    assert response.status_code == 400 and "payout_month" in response.json()["caps"]
