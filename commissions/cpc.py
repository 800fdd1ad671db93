"""Cost-per-click commissions from the hourly click rollups (unique, non-bot clicks), never per request.

Each rollup row remembers how many of its unique clicks were paid (`CpcAccrual`); a later run pays only
the increment when late clicks grow the row. Amounts are cumulative (rate x clicks so far, quantized, minus
what was paid), so sub-cent rates never lose or invent cents. Click rules are fixed per click; tiers do not
apply to them. A finished hour only (hour + 1 h <= now) is paid, so an active hour is not split into pieces.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from programs.models import CommissionRule
from tracking.models import ClickRollup

from .models import Commission, CpcAccrual
from .notifications import commission_notify
from .rules import rule_for, rule_price
from .services import commission_create, second_tier_create


def cpc_due_rollups(*, now=None, limit: int = 10000) -> list[tuple[int, int]]:
    """(id, network id) of the hourly rollups with clicks still to pay (all networks: the beat's sweep)."""
    now = now or timezone.now()
    programs = CommissionRule.objects.filter(event=CommissionRule.Event.CLICK).values("program_id")
    return list(
        ClickRollup.objects.filter(program_id__in=programs, unique_clicks__gt=0, hour__lte=now - timedelta(hours=1))
        .filter(Q(cpc_accrual__isnull=True) | Q(cpc_accrual__paid_clicks__lt=F("unique_clicks")))
        .order_by("pk").values_list("pk", "network_id")[:limit]
    )


@transaction.atomic
def cpc_accrue_rollup(*, rollup_id: int, network_id: int) -> Commission | None:
    """Pay the unpaid unique clicks of one rollup row (idempotent: a second run finds nothing unpaid)."""
    # A lock names its network (Citus runs it on that network's shard).
    rollup = (ClickRollup.objects.select_for_update(of=("self",)).select_related("program", "affiliate")
              .filter(network_id=network_id, pk=rollup_id).first())
    if rollup is None:
        return None
    accrual, _ = CpcAccrual.objects.select_for_update().get_or_create(
        network_id=rollup.network_id, rollup=rollup
    )
    upto, before = rollup.unique_clicks, accrual.paid_clicks
    if upto <= before:
        return None
    program = rollup.program
    rule = rule_for(program=program, event=CommissionRule.Event.CLICK, affiliate=rollup.affiliate)
    if rule is None or rule.kind != CommissionRule.Kind.FIXED:
        # No click rule for this affiliate (or a percent one, which has no base): these clicks earn nothing.
        accrual.paid_clicks = upto
        accrual.save(update_fields=["paid_clicks", "updated_at"])
        return None
    currency, rate = program.currency, Decimal(rule.payout)
    details = {"clicks_from": before, "clicks_upto": upto, "hour": rollup.hour.isoformat()}
    paid_upto, revenue_upto, snapshot = rule_price(rule, rate=rate, base=Decimal(0), currency=currency, units=upto,
                                                   details=details)
    paid_before, revenue_before, _ = rule_price(rule, rate=rate, base=Decimal(0), currency=currency, units=before)
    amount, revenue = paid_upto - paid_before, revenue_upto - revenue_before
    if amount <= 0 and revenue <= 0:
        return None  # not yet worth a minor unit: the clicks wait for more
    commission = commission_create(
        network=rollup.network_id, status=Commission.Status.PENDING, key=f"rollup:{rollup.pk}:{upto}",
        kind=Commission.Kind.CLICK, tier=1, program=program, advertiser_id=program.advertiser_id,
        affiliate=rollup.affiliate, rollup=rollup, clicks=upto - before, clicks_upto=upto, rule=rule,
        rule_snapshot=snapshot,
        currency=currency, base_amount=Decimal(0), amount=max(amount, Decimal(0)), revenue=max(revenue, Decimal(0)),
        hold_until=rollup.hour + timedelta(hours=1, days=program.hold_days),
    )
    second = second_tier_create(commission, program)
    accrual.paid_clicks = upto
    accrual.save(update_fields=["paid_clicks", "updated_at"])
    for made in (commission, second):
        if made is not None:
            commission_notify(made, "commission.created")
    return commission
