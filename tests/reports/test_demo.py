"""The reports demo: 90 days of traffic written through the real paths; a second run at the same moment adds nothing,
a later one only what happened since."""

import zoneinfo
from collections import Counter

from django.utils import timezone

from commissions.models import Commission
from network import demo as network_demo
from programs import demo as programs_demo
from reports import demo
from tracking.models import Click, ClickRollup, Conversion


def _counts(network):
    return (Click.objects.for_network(network).count(), ClickRollup.objects.for_network(network).count(),
            sorted(ClickRollup.objects.for_network(network).values_list("hour", "clicks", "unique_clicks")),
            Conversion.objects.for_network(network).count(),
            sorted(Commission.objects.for_network(network).values_list("status", "amount", "reversed_amount")))


def test_ninety_days_of_traffic_and_a_second_run_adds_nothing(db):
    ctx: dict = {}
    network_demo.seed(ctx)
    programs_demo.seed(ctx)
    network = ctx["network"]
    moment = timezone.now()
    with demo.as_of(moment):
        demo.seed(ctx, clicks_per_day=5)
    tz = zoneinfo.ZoneInfo(network.timezone)
    hours = ClickRollup.objects.for_network(network).values_list("hour", flat=True)
    days = {hour.astimezone(tz).date() for hour in hours}
    today = timezone.localdate(timezone=tz)
    assert len(days) >= 88 and min(days) == today - timezone.timedelta(days=89)
    rollups = ClickRollup.objects.for_network(network)
    assert sum(r.clicks for r in rollups) == Click.objects.for_network(network).count()
    assert any(r.bot_clicks for r in rollups) or any(r.clicks > r.unique_clicks for r in rollups)
    assert set(rollups.values_list("sub1", flat=True)) <= {"fb", "ig", "newsletter", "seo"}
    conversions = Conversion.objects.for_network(network).filter(order_id__startswith="DEMO-R-")
    assert conversions.count() >= 5
    assert min(c.created_at for c in conversions).date() < today - timezone.timedelta(days=30)
    statuses = Counter(Commission.objects.for_network(network).values_list("status", flat=True))
    assert statuses["approved"] and len(statuses) >= 2  # approved past their hold period, others not
    before = _counts(network)
    with demo.as_of(moment):
        demo.seed(ctx, clicks_per_day=5)
    assert _counts(network) == before


def test_a_later_run_adds_only_what_happened_since(db):
    ctx: dict = {}
    network_demo.seed(ctx)
    programs_demo.seed(ctx)
    network = ctx["network"]
    first = timezone.now().replace(hour=10, minute=17)  # a busy day is still ahead in every zone
    with demo.as_of(first):
        demo.seed(ctx, days=20, clicks_per_day=40)
    clicks = dict(Click.objects.for_network(network).values_list("click_id", "created_at"))
    conversions = {c.order_id: (c.created_at, c.amount, c.refunded_amount)
                   for c in Conversion.objects.for_network(network)}
    later = first + timezone.timedelta(days=1, hours=5)
    with demo.as_of(later):
        demo.seed(ctx, days=20, clicks_per_day=40)
    now_clicks = dict(Click.objects.for_network(network).values_list("click_id", "created_at"))
    added = {k: v for k, v in now_clicks.items() if k not in clicks}
    assert set(clicks) <= set(now_clicks) and added  # nothing lost, the day and a bit since were clicked
    assert all(first < moment <= later for moment in added.values())
    now_conversions = {c.order_id: (c.created_at, c.amount, c.refunded_amount)
                       for c in Conversion.objects.for_network(network)}
    assert {k: now_conversions[k] for k in conversions} == conversions  # what was recorded is unchanged
    new_orders = set(now_conversions) - set(conversions)
    assert new_orders and all(first < now_conversions[k][0] <= later for k in new_orders)
    rollups = ClickRollup.objects.for_network(network)
    assert sum(r.clicks for r in rollups) == len(now_clicks)  # every click counted once
