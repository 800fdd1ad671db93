"""CPC: commissions for unique, non-bot clicks from the hourly rollups, paying only increments, idempotently."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commissions.cpc import cpc_accrue_rollup
from commissions.models import Commission
from commissions.tasks import cpc_accrue_task
from tracking.models import ClickRollup

from .helpers import assert_ledger_consistent, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal


def rollup(link, *, unique, bots=0, hours_ago=2, sub1=""):
    hour = (timezone.now() - timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
    return ClickRollup.objects.create(network_id=link.network_id, hour=hour, program_id=link.program_id,
                                      affiliate_id=link.affiliate_id, sub1=sub1, clicks=unique + bots,
                                      unique_clicks=unique, bot_clicks=bots)


@pytest.fixture
def cpc_link(world):
    _, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10")},
        {"event": "click", "kind": "fixed", "payout": D("0.05"), "revenue": D("0.08")},
    ])
    return link


def test_unique_non_bot_clicks_are_paid_once(cpc_link):
    row = rollup(cpc_link, unique=40, bots=25)
    assert cpc_accrue_task() == 1
    commission = Commission.objects.get()
    assert (commission.kind, commission.clicks, commission.amount, commission.revenue) == ("click", 40, D("2.00"),
                                                                                         D("3.20"))
    assert commission.rollup == row and commission.status == "pending"
    assert cpc_accrue_task() == 0 and cpc_accrue_rollup(rollup_id=row.pk, network_id=row.network_id) is None
    assert Commission.objects.count() == 1
    assert_ledger_consistent()


def test_late_clicks_pay_only_the_increment(cpc_link):
    row = rollup(cpc_link, unique=10)
    cpc_accrue_task()
    ClickRollup.objects.filter(pk=row.pk).update(unique_clicks=17, clicks=20)
    cpc_accrue_task()
    assert list(Commission.objects.order_by("pk").values_list("clicks", "amount")) == [(10, D("0.50")),
                                                                                       (7, D("0.35"))]


def test_sub_cent_rates_pay_whole_cents_cumulatively(world):
    _, link = program_with_link(world.a, rules=[{"event": "click", "kind": "fixed", "payout": D("0.004")}])
    row = rollup(link, unique=1)
    # 0.004: not a cent yet, the click waits
    assert cpc_accrue_rollup(rollup_id=row.pk, network_id=row.network_id) is None
    ClickRollup.objects.filter(pk=row.pk).update(unique_clicks=3)
    first = cpc_accrue_rollup(rollup_id=row.pk, network_id=row.network_id)  # 0.012 -> 0.01
    ClickRollup.objects.filter(pk=row.pk).update(unique_clicks=5)
    second = cpc_accrue_rollup(rollup_id=row.pk, network_id=row.network_id)  # 0.020 -> 0.02, minus 0.01 paid
    assert (first.amount, second.amount) == (D("0.01"), D("0.01"))


def test_the_current_hour_and_programs_without_click_rules_are_skipped(world, cpc_link):
    rollup(cpc_link, unique=5, hours_ago=0)
    _, other = program_with_link(world.a, name="Sales only")
    rollup(other, unique=50)
    assert cpc_accrue_task() == 0 and not Commission.objects.exists()


def test_the_referrer_earns_its_share_of_click_commissions(world):
    from tests.factories import make_affiliate, make_link, make_partnership

    referred, _ = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=world.a.affiliate)
    program, _ = program_with_link(world.a, second_tier_percent=D("20"), rules=[
        {"event": "click", "kind": "fixed", "payout": D("0.10")}])
    row = rollup(make_link(make_partnership(program, referred)), unique=30)
    first = cpc_accrue_rollup(rollup_id=row.pk, network_id=row.network_id)
    second = Commission.objects.get(parent=first)
    assert (first.amount, second.amount, second.affiliate, second.tier) == (D("3.00"), D("0.60"), world.a.affiliate, 2)
    ClickRollup.objects.filter(pk=row.pk).update(unique_clicks=40)
    cpc_accrue_rollup(rollup_id=row.pk, network_id=row.network_id)
    assert Commission.objects.filter(tier=2).count() == 2
    assert_ledger_consistent()
