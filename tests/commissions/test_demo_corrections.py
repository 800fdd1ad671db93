"""seed_demo shows an order partly refunded and then corrected (DEMO-1006), each step on its own day: its commission
keeps what the refund reversed and is priced on the corrected amount, its page lists the story in order, and a
second run records nothing again."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from commissions.models import Commission, LedgerEntry, Transaction
from network.models import AuditLog, User
from reports.demo import as_of
from tests.commissions.helpers import assert_ledger_consistent
from tests.conftest import api_client
from tracking.models import Conversion

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _story(conversion):
    return list(AuditLog.objects.filter(target_type="tracking.conversion", target_id=str(conversion.pk))
                .order_by("created_at").values_list("action", "created_at"))


def test_the_demo_has_an_order_refunded_in_part_then_corrected_once(client):
    moment = timezone.now()
    with as_of(moment):
        call_command("seed_demo", "--force", "--days", "3", stdout=io.StringIO())
    conversion = Conversion.objects.get(order_id="DEMO-1006")
    assert (conversion.amount, conversion.refunded_amount) == (D("150.00"), D("40.00"))
    assert conversion.created_at == moment - timedelta(days=5)
    story = _story(conversion)
    assert story == [("conversion.refunded", moment - timedelta(days=3)),
                     ("conversion.adjusted", moment - timedelta(days=1))]
    commission = Commission.objects.get(conversion=conversion, tier=1)
    rate = D(commission.rule_snapshot["rate"]) / 100
    # The refund reversed its share of the sale (40.00 of 180.00); the corrected order pays the same rate on 150.00.
    assert commission.reversed_amount == (D("40.00") * rate).quantize(D("0.01"))
    assert commission.amount == (D("150.00") * rate).quantize(D("0.01"))
    assert commission.status == Commission.Status.PENDING
    [change] = commission.rule_snapshot["conversion_adjustments"]
    assert change["amount_before"] == format((D("180") * rate).normalize(), "f") and "reversed" in change
    postings = Transaction.objects.filter(ref_id=str(commission.pk), ref_type="commissions.commission")
    assert sorted(postings.values_list("kind", flat=True)) == [
        "commission.adjusted", "commission.created", "commission.reversed"]
    assert_ledger_consistent()

    explanation = api_client("afk_demo_owner").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    [shown] = explanation["order_changes"]
    assert (shown["reversed"], shown["amount"]) == (f"{commission.reversed_amount:.2f}", f"{commission.amount:.2f}")
    client.force_login(User.objects.get(email="merchant@northwind.test"))
    page = client.get(f"/advertiser/conversions/{conversion.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    history = html[html.index('data-testid="conversion-history"'):]
    recorded, refunded, corrected = (history.index(f'data-testid="history-{kind}"')
                                     for kind in ("recorded", "refunded", "corrected"))
    assert recorded < refunded < corrected
    assert "€180.00" in history and "€40.00" in history and "€150.00" in history

    entries, commissions = LedgerEntry.objects.count(), sorted(Commission.objects.values_list("pk", "amount"))
    with as_of(moment):
        call_command("seed_demo", "--force", "--days", "3", stdout=io.StringIO())
    conversion.refresh_from_db()
    assert (conversion.amount, conversion.refunded_amount) == (D("150.00"), D("40.00"))
    assert _story(conversion) == story
    assert Conversion.objects.filter(order_id="DEMO-1006").count() == 1
    assert LedgerEntry.objects.count() == entries
    assert sorted(Commission.objects.values_list("pk", "amount")) == commissions
