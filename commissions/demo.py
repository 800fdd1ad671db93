"""Demo commissions in every state but `paid` (the payouts demo pays approved ones). Idempotent: a commission
is moved only from `pending` to the state its position in the (stable) order plan gives it."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.clock import as_of
from tracking import demo as tracking_demo
from tracking import services as tracking_services
from tracking.adjustments import conversion_adjust
from tracking.daily import conversions_added, conversions_kept
from tracking.models import Conversion

from . import services, trueup
from .models import Commission

# Position in the order_id-sorted list -> the state the demo shows.
PLAN = ["pending", "approved", "approved", "on_hold", "rejected", "reversed", "partially_reversed", "approved"]
AMOUNTS = ["49.90", "120.00", "15.50", "89.00", "240.00", "35.25", "64.00", "19.99"]


def _sale(network, link, order_id: str, amount: str) -> Conversion:
    """A demo order attributed by `link`'s click, made once (a rerun finds it by its order id)."""
    program = link.program
    conversion, made = Conversion.objects.get_or_create(
        network_id=network.pk, advertiser_id=program.advertiser_id, order_id=order_id,
        defaults={"amount": Decimal(amount), "currency": program.currency,
                  "attribution": Conversion.Attribution.CLICK, "program": program,
                  "partnership_id": link.partnership_id, "affiliate_id": link.affiliate_id, "link": link,
                  "sub1": link.sub1},
    )
    if made:
        conversions_added(network.pk, [conversion.pk])
    return conversion


def _ensure_conversions(network, links) -> None:
    """Make a few attributed orders when the tracking demo made fewer than the plan needs."""
    have = (Conversion.objects.for_network(network).filter(affiliate__isnull=False)
            .exclude(order_id=REFUNDED_THEN_CORRECTED[0]).count())
    for n, amount in enumerate(AMOUNTS[: max(len(PLAN) - have, 0)], start=1):
        _sale(network, links[n % len(links)], f"DEMO-COMM-{n:03d}", amount)


# Sales of the affiliate who joined through a referral link (network.demo.REFERRED_SIGN_UP): its referrer earns a
# second-tier override on each. (order id, amount, approved?)
REFERRED_SALES = [("DEMO-REF-001", "86.00", True), ("DEMO-REF-002", "42.50", False)]


def _referred_sales(network, affiliates, links) -> list[int]:
    """The referred sign-up's sales (ids of the conversions): /partner/referrals/ of its referrer shows what they
    earned it."""
    referred = next((a for a in reversed(affiliates) if a.referred_by_id), None)
    link = next((link for link in links if referred is not None and link.affiliate_id == referred.pk), None)
    if link is None:
        return []
    return [_sale(network, link, order_id, amount).pk for order_id, amount, _approved in REFERRED_SALES]


def _refund(conversion: Conversion, amount: Decimal) -> None:
    """What the tracking refund does to a conversion, for the demo only."""
    with transaction.atomic():
        conversion = Conversion.objects.for_network(conversion.network_id).select_for_update().get(pk=conversion.pk)
        with conversions_kept(conversion.network_id, [conversion.pk]):
            conversion.refunded_amount = Decimal(conversion.refunded_amount) + amount
            conversion.save(update_fields=["refunded_amount"])
        services.commissions_reverse_for_refund(conversion=conversion, amount=amount)


def _correct_order(network) -> None:
    """The tracking demo's DEMO-1005 corrected once (tracking.demo.CART_CORRECTED) before anything refunds it: its
    commission's lines are priced again and its explanation lists the changed ones."""
    conversion = Conversion.objects.for_network(network).filter(order_id="DEMO-1005", refunded_amount=0).first()
    if conversion is None or conversion.items == tracking_demo.CART_CORRECTED:
        return
    conversion_adjust(network=network, conversion=conversion, items=tracking_demo.CART_CORRECTED)


# An order partly refunded and then corrected, each on its own day (its page shows the story; its commission's
# explanation the correction after the refund): sold 180.00 five days ago, 40.00 refunded three days ago, corrected
# to 150.00 yesterday. Kept out of PLAN: its commission stays pending.
REFUNDED_THEN_CORRECTED = ("DEMO-1006", "180.00", "40.00", "150.00")


def _refunded_then_corrected(network, links) -> None:
    """Each step once: a rerun finds the order, its refund and its correction done and adds nothing."""
    order_id, sold, refund, corrected = REFUNDED_THEN_CORRECTED
    now = timezone.now()
    conversion = Conversion.objects.for_network(network).filter(order_id=order_id).first()
    if conversion is None:
        shop = Conversion.objects.for_network(network).filter(order_id="DEMO-1001", link__isnull=False).first()
        link = shop.link if shop is not None else links[0]
        with as_of(now - timedelta(days=5)):
            conversion = _sale(network, link, order_id, sold)
            services.commissions_for_conversion(conversion_id=conversion.pk, network_id=network.pk)
    if conversion.refunded_amount == 0:
        with as_of(now - timedelta(days=3)):
            conversion, _amount = tracking_services.conversion_refund(network=network, conversion=conversion,
                                                                      amount=Decimal(refund))
    if conversion.amount == Decimal(sold):
        with as_of(now - timedelta(days=1)):
            conversion_adjust(network=network, conversion=conversion, amount=Decimal(corrected))


def seed(ctx: dict) -> None:
    if not ctx.get("links"):
        return  # the programs/tracking demo did not run: nothing to pay commissions on
    network = ctx["network"]
    _ensure_conversions(network, list(ctx["links"]))
    referred = _referred_sales(network, ctx.get("affiliates", []), list(ctx["links"]))
    _refunded_then_corrected(network, list(ctx["links"]))
    for pk in Conversion.objects.for_network(network).filter(affiliate__isnull=False).values_list("pk", flat=True):
        services.commissions_for_conversion(conversion_id=pk, network_id=network.pk)
    _correct_order(network)
    commissions = list(
        Commission.objects.for_network(network).filter(tier=1, conversion__isnull=False)
        .exclude(kind=Commission.Kind.ADJUSTMENT)
        # The reports demo's 90 days of orders (DEMO-R-...) keep the states that demo gave them.
        .exclude(conversion__order_id__startswith="DEMO-R-")
        .exclude(conversion__order_id__startswith="DEMO-REF-")
        .exclude(conversion__order_id=REFUNDED_THEN_CORRECTED[0])
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
    # One of the referred sign-up's sales is approved (its referrer's override with it), the other still pending.
    for conversion_id, (_order, _amount, approved) in zip(referred, REFERRED_SALES, strict=False):
        first = Commission.objects.for_network(network).filter(conversion_id=conversion_id, tier=1).first()
        if approved and first is not None and first.status == Commission.Status.PENDING:
            services.commission_approve(network=network, commission=first, operator=True)
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
