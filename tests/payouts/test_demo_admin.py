"""The demo seed (a paid batch without calling Stripe, idempotent) and the admin pages."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from commissions.models import Commission, LedgerEntry
from network.models import Network
from payouts.models import MethodKind, Payout, PayoutBatch, PayoutMethod
from reports.demo import as_of
from tests.commissions.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def test_seed_demo_pays_one_batch_once_without_stripe(settings, stripe_api, mailoutbox):
    """Both runs at one moment: a later run would add the traffic of the time since (tests/reports/test_demo.py)."""
    settings.STRIPE_SECRET_KEY = "sk_test_would_be_used"  # even with a key, the demo never calls Stripe
    moment = timezone.now()
    with as_of(moment):
        call_command("seed_demo", force=True, days=45, stdout=io.StringIO())  # past the 30-day hold
    network = Network.objects.get(slug="demo")
    kinds = set(PayoutMethod.objects.filter(network=network).values_list("kind", flat=True))
    assert kinds == {MethodKind.STRIPE_CONNECT, MethodKind.PAYPAL, MethodKind.BANK}
    batch = PayoutBatch.objects.get(network=network)
    assert batch.status == "completed" and batch.total >= 1
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid"}
    assert set(Payout.objects.values_list("method_kind", flat=True)) == kinds  # one of each, all paid
    assert Commission.objects.filter(status="paid").exists() and stripe_api.calls == []
    snapshot = (Payout.objects.count(), LedgerEntry.objects.count(), PayoutMethod.objects.count())
    with as_of(moment):
        call_command("seed_demo", force=True, days=45, stdout=io.StringIO())
    assert (Payout.objects.count(), LedgerEntry.objects.count(), PayoutMethod.objects.count()) == snapshot
    assert PayoutBatch.objects.count() == 1
    assert_ledger_consistent()


def test_admin_pages_list_payouts_and_batches(world, client, settings):
    from tests.payouts.helpers import earn, method

    settings.STRIPE_SECRET_KEY = ""
    from payouts.batches import payout_batch_run, payout_batch_start

    earn(world.a, "20.00")
    method(world.a.affiliate, MethodKind.BANK)
    payout_batch_run(batch_id=payout_batch_start(network=world.a.network).pk)
    user = world.a.owner.user
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    for url in ("/admin/payouts/payout/", "/admin/payouts/payoutbatch/", "/admin/payouts/payoutmethod/",
                "/admin/payouts/taxdetails/", "/admin/payouts/stripeevent/"):
        assert client.get(url).status_code == 200, url
    payout = Payout.objects.get()
    response = client.post("/admin/payouts/payout/", {"action": "mark_paid_selected", "_selected_action": [payout.pk]})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == "paid"
