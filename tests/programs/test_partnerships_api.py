"""Applying, inviting and deciding partnerships: roles, transitions, e-mails, audit log, the 404 across networks."""

import pytest
from django.core import mail

from network.models import AuditLog, PartyStatus
from programs.models import Partnership
from tests.conftest import api_client
from tests.factories import make_advertiser, make_partnership, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def emails(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the e-mails) of what happens inside the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _apply(tenant, program, role="affiliate"):
    return tenant.client(role).post(f"/api/v1/programs/{program.pk}/apply")


def test_applying_to_a_manual_program_is_pending_and_mails_the_advertiser(world, emails):
    program = make_program(world.a.advertiser, approval="manual")
    with emails():
        response = _apply(world.a, program)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["program"] == program.pk
    partnership = Partnership.objects.get(pk=body["id"])
    assert partnership.affiliate == world.a.affiliate and partnership.decided_at is None
    assert [m.to for m in mail.outbox] == [[world.a.advertiser.email]]
    assert "applied" in mail.outbox[0].subject and world.a.affiliate.name in mail.outbox[0].body
    assert AuditLog.objects.filter(action="partnership.applied", target_id=str(partnership.pk),
                                   actor=world.a.affiliate.membership.user).exists()


def test_applying_to_an_auto_program_is_approved_at_once(world, emails):
    program = make_program(world.a.advertiser, approval="auto")
    with emails():
        response = _apply(world.a, program)
    assert response.status_code == 201
    assert response.json()["status"] == "approved" and response.json()["decided_at"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.a.advertiser.email, world.a.affiliate.email])


@pytest.mark.parametrize(("status", "message"), [
    ("pending", "pending"), ("approved", "already"), ("rejected", "rejected"), ("suspended", "suspended"),
])
def test_applying_again_is_a_clear_400(world, status, message):
    program = make_program(world.a.advertiser)
    partnership = make_partnership(program, world.a.affiliate, status=status)
    response = _apply(world.a, program)
    assert response.status_code == 400
    assert message in str(response.json()["detail"])
    partnership.refresh_from_db()
    assert partnership.status == status and Partnership.objects.count() == 1


def test_paused_draft_and_invite_only_programs_cannot_be_applied_to(world):
    for fields in ({"status": "paused"}, {"status": "draft"}, {"visibility": "invite"}, {"status": "archived"}):
        program = make_program(world.a.advertiser, **fields)
        assert _apply(world.a, program).status_code == 404, fields
    assert not Partnership.objects.exists()


def test_a_paused_program_the_affiliate_sees_refuses_with_400(world):
    program = make_program(world.a.advertiser, status="paused")
    make_partnership(program, world.a.affiliate2, status="approved")
    make_partnership(program, world.a.affiliate, status="rejected")
    response = _apply(world.a, program)
    assert response.status_code == 400 and "paused" in str(response.json())


def test_a_pending_affiliate_account_cannot_apply(world):
    world.a.affiliate.status = PartyStatus.PENDING
    world.a.affiliate.save()
    response = _apply(world.a, make_program(world.a.advertiser))
    assert response.status_code == 400 and not Partnership.objects.exists()


def test_apply_roles_and_another_networks_program(world, anon):
    program = make_program(world.a.advertiser)
    assert anon.post(f"/api/v1/programs/{program.pk}/apply").status_code == 401
    for role in ("advertiser", "owner", "staff"):
        assert _apply(world.a, program, role).status_code == 403
    assert _apply(world.b, program).status_code == 404
    assert not Partnership.objects.exists()


def test_invite_then_accept_by_applying(world, emails):
    program = make_program(world.a.advertiser, visibility="invite", approval="manual")
    with emails():
        invited = world.a.client("advertiser").post(f"/api/v1/programs/{program.pk}/invite",
                                                    {"affiliate": world.a.affiliate.pk}, format="json")
    assert invited.status_code == 201, invited.content
    assert invited.json()["status"] == "pending" and invited.json()["invited"] is True
    assert [m.to for m in mail.outbox] == [[world.a.affiliate.email]]
    assert world.a.client("affiliate").get(f"/api/v1/programs/{program.pk}").status_code == 200
    assert world.a.client("affiliate2").get(f"/api/v1/programs/{program.pk}").status_code == 404
    accepted = _apply(world.a, program)
    assert accepted.status_code == 200 and accepted.json()["status"] == "approved"
    assert accepted.json()["id"] == invited.json()["id"]
    assert AuditLog.objects.filter(action="partnership.invited").count() == 1
    assert AuditLog.objects.filter(action="partnership.invitation_accepted").count() == 1


def test_invite_validation_roles_and_404s(world, anon):
    program = make_program(world.a.advertiser, visibility="invite")
    url = f"/api/v1/programs/{program.pk}/invite"
    client = world.a.client("advertiser")
    assert anon.post(url, {"affiliate": world.a.affiliate.pk}, format="json").status_code == 401
    assert world.a.client("affiliate").post(url, {"affiliate": world.a.affiliate.pk}, format="json"
                                            ).status_code == 403
    assert world.b.client("advertiser").post(url, {"affiliate": world.b.affiliate.pk}, format="json"
                                             ).status_code == 404
    foreign = client.post(url, {"affiliate": world.b.affiliate.pk}, format="json")
    assert foreign.status_code == 400 and "affiliate" in foreign.json()
    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"affiliate": world.a.affiliate.pk}, format="json").status_code == 201
    again = client.post(url, {"affiliate": world.a.affiliate.pk}, format="json")
    assert again.status_code == 400 and "affiliate" in again.json()
    assert Partnership.objects.count() == 1


def test_advertiser_approves_and_the_affiliate_is_mailed(world, emails):
    partnership = make_partnership(make_program(world.a.advertiser), world.a.affiliate, status="pending")
    with emails():
        response = world.a.client("advertiser").post(f"/api/v1/partnerships/{partnership.pk}/approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved" and body["decided_at"]
    assert body["decided_by"] == world.a.advertiser.membership.user.email
    partnership.refresh_from_db()
    assert partnership.decided_by == world.a.advertiser.membership.user and partnership.decided_at
    assert [m.to for m in mail.outbox] == [[world.a.affiliate.email]] and "approved" in mail.outbox[0].subject
    assert AuditLog.objects.filter(action="partnership.approved", target_id=str(partnership.pk)).exists()
    seen_by_affiliate = world.a.client("affiliate").get(f"/api/v1/partnerships/{partnership.pk}").json()
    assert seen_by_affiliate["status"] == "approved" and seen_by_affiliate["decided_by"] is None


def test_reject_with_a_note_then_reapplying_is_refused(world, emails):
    program = make_program(world.a.advertiser)
    partnership = make_partnership(program, world.a.affiliate, status="pending")
    with emails():
        response = world.a.client("owner").post(f"/api/v1/partnerships/{partnership.pk}/reject",
                                                 {"note": "Coupon sites are not accepted."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert "Coupon sites are not accepted." in mail.outbox[0].body
    again = _apply(world.a, program)
    assert again.status_code == 400 and "rejected" in str(again.json())


@pytest.mark.parametrize(("start", "verb", "ok"), [
    ("pending", "approve", True), ("pending", "reject", True), ("pending", "suspend", False),
    ("approved", "approve", False), ("approved", "reject", False), ("approved", "suspend", True),
    ("rejected", "approve", False), ("rejected", "suspend", False),
    ("suspended", "approve", False), ("suspended", "reject", False), ("suspended", "suspend", False),
])
def test_transitions(world, start, verb, ok):
    partnership = make_partnership(make_program(world.a.advertiser), world.a.affiliate, status=start)
    response = world.a.client("advertiser").post(f"/api/v1/partnerships/{partnership.pk}/{verb}")
    partnership.refresh_from_db()
    if ok:
        assert response.status_code == 200 and partnership.status != start
    else:
        assert response.status_code == 400
        assert f"is {start}" in str(response.json()["detail"])
        assert partnership.status == start and partnership.decided_at is None


def test_decision_roles_and_404s(world, anon):
    partnership = make_partnership(make_program(world.a.advertiser), world.a.affiliate, status="pending")
    _, other_issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    url = f"/api/v1/partnerships/{partnership.pk}/approve"
    assert anon.post(url).status_code == 401
    assert world.a.client("affiliate").post(url).status_code == 403
    assert api_client(other_issued.raw).post(url).status_code == 404
    assert world.b.client("advertiser").post(url).status_code == 404
    assert world.b.client("owner").post(url).status_code == 404
    partnership.refresh_from_db()
    assert partnership.status == "pending"
    assert world.a.client("staff").post(url).status_code == 200


def test_partnership_lists_are_scoped(world):
    mine = make_partnership(make_program(world.a.advertiser), world.a.affiliate, status="pending")
    adv2, issued = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    theirs = make_partnership(make_program(adv2, name="Other"), world.a.affiliate2, status="approved")
    foreign = make_partnership(make_program(world.b.advertiser), world.b.affiliate)

    def ids(client, query=""):
        return {row["id"] for row in client.get(f"/api/v1/partnerships{query}").json()["results"]}

    assert ids(world.a.client("affiliate")) == {mine.pk}
    assert ids(world.a.client("affiliate2")) == {theirs.pk}
    assert ids(world.a.client("advertiser")) == {mine.pk}
    assert ids(api_client(issued.raw)) == {theirs.pk}
    assert ids(world.a.client("owner")) == {mine.pk, theirs.pk}
    assert ids(world.a.client("owner"), "?status=approved") == {theirs.pk}
    assert ids(world.a.client("owner"), f"?affiliate={world.a.affiliate.pk}") == {mine.pk}
    assert world.a.client("owner").get(f"/api/v1/partnerships/{foreign.pk}").status_code == 404
    assert world.a.client("affiliate").get(f"/api/v1/partnerships/{theirs.pk}").status_code == 404
