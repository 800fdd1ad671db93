"""The operator's fraud review queue: held commissions with their signals and click, decided through the services."""

import pytest

from commissions.models import Commission
from network.models import AuditLog
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_click
from tests.pages import web_client


@pytest.fixture
def held(world):
    """A commission of network a held for review: its conversion says too_fast, its click was a bot duplicate."""
    _, link = program_with_link(world.a)
    click = make_click(link, country="DE", is_bot=True, is_unique=False, sub1="fb")
    _, [commission] = convert(world.a, link, "order-held", "100", status="held", click_id=click.click_id,
                              fraud_signals=["too_fast", "duplicate_click"])
    assert commission.status == Commission.Status.ON_HOLD
    return commission


def test_queue_lists_held_commissions_with_signals_and_click(world, web, held):
    page = web("a", "staff").get("/operator/fraud/").content.decode()
    assert "order-held" in page and "too_fast" in page and "duplicate_click" in page
    # In words, not codes alone.
    assert ">Too fast<" in page and "The conversion came very soon after its click." in page
    assert ">Duplicate click<" in page and "The same visitor had just clicked this link." in page
    assert "DE" in page and ">bot<" in page and ">duplicate<" in page
    assert world.a.affiliate.name in page
    assert "Nothing is held" in web("b", "owner").get("/operator/fraud/").content.decode()


@pytest.mark.parametrize(("decision", "status", "action"), [
    ("approve", "approved", "commission.approved"),
    ("release", "pending", "commission.released"),
    ("reject", "rejected", "commission.rejected"),
])
def test_operator_decides_a_held_commission_with_htmx(world, web, held, decision, status, action):
    response = web("a", "owner").post(f"/operator/fraud/{held.pk}/decide", {"decision": decision, "reason": "Bots"},
                                      HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<tr") and 'value="approve"' not in body
    held.refresh_from_db()
    assert held.status == status
    entry = AuditLog.objects.get(action=action)
    assert entry.actor == world.a.owner.user and entry.target_id == str(held.pk)


def test_deciding_twice_shows_the_error_and_changes_nothing(world, web, held):
    client = web("a", "owner")
    client.post(f"/operator/fraud/{held.pk}/decide", {"decision": "approve"})
    response = client.post(f"/operator/fraud/{held.pk}/decide", {"decision": "reject"}, HTTP_HX_REQUEST="true")
    assert "cannot be rejected" in response.content.decode()
    held.refresh_from_db()
    assert held.status == "approved"
    assert client.post(f"/operator/fraud/{held.pk}/decide", {"decision": "pay"}).status_code == 400


def test_another_networks_commission_is_404_and_parties_are_403(world, web, held):
    assert web("b", "owner").post(f"/operator/fraud/{held.pk}/decide", {"decision": "approve"}).status_code == 404
    for role in ("advertiser", "affiliate"):
        assert web("a", role).get("/operator/fraud/").status_code == 403
        assert web("a", role).post(f"/operator/fraud/{held.pk}/decide", {"decision": "approve"}).status_code == 403
    held.refresh_from_db()
    assert held.status == "on_hold"


def test_csrf_is_enforced_on_decisions(world, held):
    client = web_client(world.a.owner, enforce_csrf_checks=True)
    assert client.post(f"/operator/fraud/{held.pk}/decide", {"decision": "approve"}).status_code == 403
    held.refresh_from_db()
    assert held.status == "on_hold"
