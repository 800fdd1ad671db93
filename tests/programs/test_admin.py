"""Programs in the admin: every list and change page renders; partnership decisions go through the service."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from network.models import AuditLog
from programs.models import Partnership
from tests.factories import make_coupon, make_link, make_partnership, make_program
from tests.network.test_admin import staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(world):
    program = make_program(world.a.advertiser)
    partnership = make_partnership(program, world.a.affiliate, status="pending")
    foreign = make_partnership(make_program(world.b.advertiser, name="Bravo Program"), world.b.affiliate)
    return program, partnership, foreign


def test_every_programs_page_renders_for_staff_of_the_network(world, rows):
    program, partnership, foreign = rows
    make_link(make_partnership(program, world.a.affiliate2), sub1="x")
    make_coupon(Partnership.objects.get(affiliate=world.a.affiliate2), code="ADMIN5")
    client = staff_client(world.a.owner.user)
    world.a.owner.user.user_permissions.add(*Permission.objects.filter(content_type__app_label="programs"))
    for model in ("program", "commissionrule", "partnership", "creative", "couponcode", "trackinglink"):
        page = client.get(f"/admin/programs/{model}/")
        assert page.status_code == 200, model
        assert b"Bravo Program" not in page.content
    assert client.get(f"/admin/programs/program/{program.pk}/change/").status_code == 200
    assert client.get(f"/admin/programs/partnership/{partnership.pk}/change/").status_code == 200
    assert client.get(f"/admin/programs/partnership/{foreign.pk}/change/").status_code == 302


def test_admin_action_approves_through_the_service(world, rows, django_capture_on_commit_callbacks):
    _, partnership, _ = rows
    approved = make_partnership(make_program(world.a.advertiser, name="Second"), world.a.affiliate2)
    client = staff_client(world.a.owner.user, superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/programs/partnership/", {
            "action": "approve", "_selected_action": [partnership.pk, approved.pk]}, follow=True)
    assert response.status_code == 200
    partnership.refresh_from_db()
    assert partnership.status == "approved" and partnership.decided_by == world.a.owner.user
    assert [m.to for m in mail.outbox] == [[world.a.affiliate.email]]
    assert AuditLog.objects.filter(action="partnership.approved").count() == 1
    assert b"is approved" in response.content  # the already approved one is reported, not changed
