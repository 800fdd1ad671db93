"""Deleting a network or a user outside the admin: on PostgreSQL every statement of the cascade names the networks it
touches (the routing guard, strict: the test's own `.delete()` is checked too), and the rows of every other network
are all still there, counted per table and network before and after."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from network.models import (
    Advertiser,
    Affiliate,
    Announcement,
    AuditLog,
    IdempotencyKey,
    Membership,
    Network,
    Role,
    TrackingDomain,
    User,
    VerifiedDomain,
)
from network.services import membership_create
from payouts.models import PayoutBatch
from programs.models import Partnership
from tests import sqlguard
from tests.conftest import make_tenant
from tests.factories import days_rebuilt, make_affiliate, make_conversion, make_link, make_partnership, make_program
from tracking.models_fraud import MemberAddress
from tracking.models_outbound import Delivery, DeliveryAttempt, WebhookEndpoint
from tracking.models_pixel import PixelToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _network_tables() -> list[str]:
    return sorted({model._meta.db_table for model in apps.get_models()
                   if any(field.attname == "network_id" for field in model._meta.concrete_fields)})


def _rows_by_network() -> dict[tuple[str, int], int]:
    """(table, network id) -> rows, for every table with a network_id (the click table counts its partitions)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in _network_tables():
            cursor.execute(f"SELECT network_id, COUNT(*) FROM {connection.ops.quote_name(table)} GROUP BY network_id")
            counts.update({(table, network_id): count for network_id, count in cursor.fetchall()})
    return counts


def _checked(delete):
    """Run the deletion with the guard checking the test's own call (strict), so nothing of it is exempt."""
    with sqlguard.strict():
        return delete()


def _fill(tenant, suffix: str) -> None:
    """A little business in a network: a program, a partnership, a link and a sale."""
    program = make_program(tenant.advertiser, name=f"Program {suffix}")
    link = make_link(make_partnership(program, tenant.affiliate))
    make_conversion(tenant.advertiser, order_id=f"ORDER-{suffix}", amount="50.00", link=link)


def _fill_the_rest(network) -> None:
    """Rows of the tables the demo leaves empty: its day tables, an announcement, an idempotent call, a member's
    address, a pixel token, a verified tracking domain, a webhook's delivery and its attempt."""
    days_rebuilt(network)
    advertiser = Advertiser.objects.filter(network=network).first()
    affiliate = Affiliate.objects.filter(network=network).first()
    owner = Membership.objects.get(network=network, role=Role.OWNER)
    now = timezone.now()
    Announcement.objects.create(network=network, created_by=owner.user, title="News", body="Hello")
    IdempotencyKey.objects.create(network=network, membership=owner, key="k-1", fingerprint="f" * 64)
    MemberAddress.objects.create(network=network, affiliate=affiliate, membership=affiliate.membership,
                                 address_hash="h" * 64, source=MemberAddress.Source.API, first_seen_at=now,
                                 last_seen_at=now)
    PixelToken.objects.get_or_create(network=network, advertiser=advertiser, defaults={"token": "t" * 40})
    TrackingDomain.objects.create(network=network, advertiser=advertiser, domain="go.demo-delete.test",
                                  verified_at=now)
    VerifiedDomain.objects.create(network=network, domain="go.demo-delete.test")
    endpoint = WebhookEndpoint.objects.create(network=network, advertiser=advertiser, url="https://hooks.test/x")
    delivery = Delivery.objects.create(network=network, kind=Delivery.Kind.WEBHOOK, event="test", endpoint=endpoint,
                                       advertiser=advertiser, url=endpoint.url)
    DeliveryAttempt.objects.create(network=network, delivery=delivery, number=1, status_code=200, succeeded=True)


def test_deleting_a_network_removes_its_rows_and_names_it_in_every_statement(world):
    _fill(world.a, "a")
    _fill(world.b, "b")
    call_command("seed_demo", "--force", "--days", "2", stdout=io.StringIO())
    demo = Network.objects.get(slug="demo")
    demo_id = demo.pk
    _fill_the_rest(demo)
    before = _rows_by_network()
    filled = sorted(table for table, network_id in before if network_id == demo_id)
    # The demo fills most tenant tables: programs to the paid payout batch, clicks to ledger entries.
    assert len(filled) >= 40, " ".join(sorted(set(_network_tables()) - set(filled)))

    _checked(demo.delete)

    after = _rows_by_network()
    assert [key for key in after if key[1] == demo_id] == []
    others = {key: count for key, count in before.items() if key[1] != demo_id}
    assert after == others
    assert {world.a.network.pk, world.b.network.pk} <= {network_id for _table, network_id in after}
    assert not Network.objects.filter(pk=demo_id).exists()
    assert Network.objects.filter(pk__in=[world.a.network.pk, world.b.network.pk]).count() == 2


def _acted(user, tenant, suffix):
    """What an operator leaves behind in a network: an audit log entry, an announcement, a payout batch, and a
    partnership it decided and invited."""
    network = tenant.network
    AuditLog.objects.create(network=network, actor=user, action="network.updated")
    Announcement.objects.create(network=network, created_by=user, title=f"News {suffix}", body="Hello")
    PayoutBatch.objects.create(network=network, created_by=user)
    partnership = make_partnership(make_program(tenant.advertiser, name=f"Program {suffix}"), tenant.affiliate)
    Partnership.objects.filter(network=network, pk=partnership.pk).update(decided_by=user, invited_by=user)


def _pointing_at(user) -> dict[str, int]:
    return {"audit": AuditLog.objects.filter(actor=user).count(),
            "announcements": Announcement.objects.filter(created_by=user).count(),
            "batches": PayoutBatch.objects.filter(created_by=user).count(),
            "decided": Partnership.objects.filter(decided_by=user).count(),
            "invited": Partnership.objects.filter(invited_by=user).count()}


def test_deleting_a_user_of_two_networks_names_them_and_keeps_what_they_did(world):
    """The user owns `a`, is an affiliate of `b` (a key, an idempotent call, a known address, a partnership and a
    link) and acted in both; it also acted in a third network it has since left, where only its acts point at it."""
    user = world.a.owner.user
    affiliate, issued = make_affiliate(world.b.network, "Owner's Blog", user.email)
    membership_b = affiliate.membership
    IdempotencyKey.objects.create(network=world.b.network, membership=membership_b, api_key_id=issued.api_key.pk,
                                  key="k-1", fingerprint="f" * 64)
    now = timezone.now()
    MemberAddress.objects.create(network=world.b.network, affiliate=affiliate, membership=membership_b,
                                 address_hash="h" * 64, source=MemberAddress.Source.API, first_seen_at=now,
                                 last_seen_at=now)
    make_link(make_partnership(make_program(world.b.advertiser, name="Affiliate's program"), affiliate))
    _acted(user, world.a, "a")
    _acted(user, world.b, "b")
    left = make_tenant("left")
    former = membership_create(network=left.network, email=user.email, role=Role.STAFF)
    _acted(user, left, "left")
    former.delete()  # it left that network: its acts there still name it
    assert not Membership.objects.filter(user=user, network=left.network).exists()
    assert _pointing_at(user) == {"audit": 3, "announcements": 3, "batches": 3, "decided": 3, "invited": 3}
    acts = [(model, set(model.objects.filter(**{field: user}).values_list("pk", flat=True)))
            for model, field in ((AuditLog, "actor"), (Announcement, "created_by"), (PayoutBatch, "created_by"),
                                 (Partnership, "decided_by"))]
    before = _rows_by_network()
    users, user_id = User.objects.count(), user.pk

    _checked(user.delete)

    assert not User.objects.filter(pk=user_id).exists() and User.objects.count() == users - 1
    # What it did stays, with no one named.
    for model, pks in acts:
        assert model.objects.filter(pk__in=pks).count() == len(pks)
    assert AuditLog.objects.filter(pk__in=acts[0][1], actor__isnull=True).count() == 3
    # Its memberships went, with what hangs on them in `b`: the affiliate, its key, its idempotent call, its address,
    # its partnership and link; nothing else changed, in any network.
    gone = {("network_membership", world.a.network.pk): 1, ("network_membership", world.b.network.pk): 1,
            ("network_affiliate", world.b.network.pk): 1, ("network_apikey", world.a.network.pk): 1,
            ("network_apikey", world.b.network.pk): 1, ("network_idempotencykey", world.b.network.pk): 1,
            ("tracking_memberaddress", world.b.network.pk): 1, ("programs_partnership", world.b.network.pk): 1,
            ("programs_trackinglink", world.b.network.pk): 1}
    expected = {key: count - gone.get(key, 0) for key, count in before.items()}
    assert _rows_by_network() == {key: count for key, count in expected.items() if count}


def _superuser_client() -> Client:
    admin = User.objects.create_superuser("root", email="root@installation.test", password="pw-for-tests-123")
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_deletes_a_user_of_two_networks_naming_them(world):
    user = world.a.staff.user
    membership_create(network=world.b.network, email=user.email, role=Role.STAFF)
    _acted(user, world.a, "a")
    _acted(user, world.b, "b")
    client = _superuser_client()
    before = _rows_by_network()

    response = _checked(lambda: client.post(f"/admin/network/user/{user.pk}/delete/", {"post": "yes"}))

    assert response.status_code == 302
    assert not User.objects.filter(email=user.email).exists()
    assert _pointing_at(user) == {"audit": 0, "announcements": 0, "batches": 0, "decided": 0, "invited": 0}
    gone = {("network_membership", world.a.network.pk): 1, ("network_membership", world.b.network.pk): 1,
            ("network_apikey", world.a.network.pk): 1}
    assert _rows_by_network() == {key: count - gone.get(key, 0) for key, count in before.items()}
    assert AuditLog.objects.filter(network__in=[world.a.network, world.b.network], actor__isnull=True,
                                   action="network.updated").count() == 2
