"""The demo seed: commissions in every state but paid, idempotent, and a no-op without the tracking demo."""

from decimal import Decimal

import pytest

from commissions import demo
from commissions.models import Commission, LedgerEntry
from tests.factories import make_link, make_partnership

from .helpers import assert_ledger_consistent, program_with_link

pytestmark = pytest.mark.django_db


def test_seed_does_nothing_without_links(world):
    demo.seed({"network": world.a.network})
    assert not Commission.objects.exists()


def test_seed_makes_every_state_once(world):
    program, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("10"), "revenue": Decimal("12")}])
    links = [link, make_link(make_partnership(program, world.a.affiliate2))]
    ctx = {"network": world.a.network, "links": links}
    demo.seed(ctx)
    statuses = set(Commission.objects.values_list("status", flat=True))
    assert statuses == {"pending", "approved", "on_hold", "rejected", "reversed"}
    assert Commission.objects.filter(status="approved", reversed_amount__gt=0).exists()  # partly refunded
    snapshot = sorted(Commission.objects.values_list("pk", "status", "reversed_amount"))
    entries = LedgerEntry.objects.count()
    demo.seed(ctx)
    assert sorted(Commission.objects.values_list("pk", "status", "reversed_amount")) == snapshot
    assert LedgerEntry.objects.count() == entries
    assert any(line.startswith("Commissions:") for line in ctx["summary"])
    assert_ledger_consistent()
