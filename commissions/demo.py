"""Demo commissions in every state but `paid` (the payouts demo pays approved ones). Idempotent: a commission
is moved only from `pending` to the state its position in the (stable) order plan gives it."""

from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tracking.daily import conversions_added, conversions_kept
from tracking.models import Conversion

from . import services, trueup
from .models import Commission

# Position in the order_id-sorted list -> the state the demo shows.
PLAN = ["pending", "approved", "approved", "on_hold", "rejected", "reversed", "partially_reversed", "approved"]
AMOUNTS = ["49.90", "120.00", "15.50", "89.00", "240.00", "35.25", "64.00", "19.99"]


def _ensure_conversions(network, links) -> None:
    """Make a few attributed orders when the tracking demo made fewer than the plan needs."""
    have = Conversion.objects.for_network(network).filter(affiliate__isnull=False).count()
    for n, amount in enumerate(AMOUNTS[: max(len(PLAN) - have, 0)], start=1):
        link = links[n % len(links)]
        program = link.program
        conversion, made = Conversion.objects.get_or_create(
            network_id=network.pk, advertiser_id=program.advertiser_id, order_id=f"DEMO-COMM-{n:03d}",
            defaults={"amount": Decimal(amount), "currency": program.currency,
                      "attribution": Conversion.Attribution.CLICK, "program": program,
                      "partnership_id": link.partnership_id, "affiliate_id": link.affiliate_id, "link": link,
                      "sub1": link.sub1},
        )
        if made:
            conversions_added(network.pk, [conversion.pk])


def _refund(conversion: Conversion, amount: Decimal) -> None:
    """What the tracking refund does to a conversion, for the demo only."""
    with transaction.atomic():
        conversion = Conversion.objects.select_for_update().get(network_id=conversion.network_id, pk=conversion.pk)
        with conversions_kept(conversion.network_id, [conversion.pk]):
            conversion.refunded_amount = Decimal(conversion.refunded_amount) + amount
            conversion.save(update_fields=["refunded_amount"])
        services.commissions_reverse_for_refund(conversion=conversion, amount=amount)


def seed(ctx: dict) -> None:
    if not ctx.get("links"):
        return  # the programs/tracking demo did not run: nothing to pay commissions on
    network = ctx["network"]
    _ensure_conversions(network, list(ctx["links"]))
    for pk in Conversion.objects.for_network(network).filter(affiliate__isnull=False).values_list("pk", flat=True):
        services.commissions_for_conversion(conversion_id=pk, network_id=network.pk)
    commissions = list(
        Commission.objects.for_network(network).filter(tier=1, conversion__isnull=False)
        .exclude(kind=Commission.Kind.ADJUSTMENT)
        # The reports demo's 90 days of orders (DEMO-R-...) keep the states that demo gave them.
        .exclude(conversion__order_id__startswith="DEMO-R-")
        .select_related("conversion").order_by("conversion__order_id", "pk")
    )
    for position, commission in enumerate(commissions):
        target = PLAN[position % len(PLAN)]
        if commission.status != Commission.Status.PENDING or target == "pending":
            continue
        if target == "approved":
            services.commission_approve(network=network, commission=commission, operator=True)
        elif target == "on_hold":
            services.commission_hold(network=network, commission=commission, reason="Demo: too fast after click")
        elif target == "rejected":
            services.commission_reject(network=network, commission=commission, reason="Demo: order cancelled")
        elif target == "reversed":
            conversion = commission.conversion
            _refund(conversion, Decimal(conversion.amount) - Decimal(conversion.refunded_amount))
        elif target == "partially_reversed" and not commission.reversed_amount:
            _refund(commission.conversion, (Decimal(commission.conversion.amount) / 2).quantize(Decimal("0.01")))
            services.commission_approve(network=network, commission=commission, operator=True)
    _trueup_closed_periods(network)
    counts = Counter(Commission.objects.for_network(network).values_list("status", flat=True))
    ctx["commissions"] = commissions
    ctx.setdefault("summary", []).append(
        "Commissions: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    )


def _trueup_closed_periods(network) -> None:
    """True up the tier periods the demo's 90 days closed (as the hourly task would have), and approve the
    adjustments whose commissions' hold period is over (as the hold-period task would)."""
    trueup.tier_trueups_run(lookback=4)
    due = Commission.objects.for_network(network).filter(
        kind=Commission.Kind.ADJUSTMENT, status=Commission.Status.PENDING, hold_until__lte=timezone.now())
    for pk in due.order_by("pk").values_list("pk", flat=True):
        services.commission_approve(network=network, commission=pk, operator=True)
