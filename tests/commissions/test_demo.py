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


def test_seed_pays_the_tier_reached_for_closed_months(world):
    """The demo's tiered program: pending commissions count towards tiers, and a closed month is trued up."""
    from datetime import UTC, datetime, timedelta

    from commissions.rules import add_months

    from .helpers import convert

    program, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("8"), "revenue": Decimal("10"), "tier_period": "month",
         "tiers": [{"min_conversions": 3, "payout": "10"}]}])
    last_month = add_months(datetime.now(UTC), -1).replace(day=2)
    made = [convert(world.a, link, f"DEMO-T-{n}", "100", created_at=last_month + timedelta(hours=n))[1][0]
            for n in range(8)]  # the seed then rejects or refunds some (its PLAN): 6 still count
    assert made[3].amount == Decimal("10.00") and made[3].rule_snapshot["conversions_in_period"] == 3
    demo.seed({"network": world.a.network, "links": [link]})
    adjustments = Commission.objects.filter(kind="adjustment")
    assert sorted(a.adjusts_id for a in adjustments) == [c.pk for c in made[:3]]
    assert all(a.amount == Decimal("2.00") and a.revenue == Decimal("0") for a in adjustments)
    entries = LedgerEntry.objects.count()
    demo.seed({"network": world.a.network, "links": [link]})
    assert LedgerEntry.objects.count() == entries
    assert_ledger_consistent()
