"""Demo conversions (attributed by click, by coupon, and one unattributed; two carts with items that the sale
program's product-level rates price line by line) and an advertiser webhook endpoint.

Runs after programs' demo; does nothing until programs has seeded links. Idempotent: conversions are keyed
by their order ids, the demo click and coupon and the endpoint are made once.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from programs.models import CouponCode, Partnership, TrackingLink

from .ids import click_id_time, new_click_id
from .models import Click, Conversion, WebhookEndpoint
from .services import conversion_record

WEBHOOK_URL = "https://webhooks.northwind.test/affiliate-events"
# Carts of the demo shop's products (programs.demo.CONTROLS prices the tent by SKU, footwear by category, the rest
# by the program's rule). DEMO-1005 is corrected by the commissions demo (CART_CORRECTED: the socks returned before
# shipping, a cheaper pair of boots), so its commission shows a correction's lines.
CART = [{"sku": "tent", "category": "tents", "amount": "249.00", "quantity": 1},
        {"sku": "boots", "category": "footwear", "amount": "159.00", "quantity": 1},
        {"sku": "socks", "category": "accessories", "amount": "24.00", "quantity": 2}]
CART_SMALL = [{"sku": "boots", "category": "footwear", "amount": "159.00", "quantity": 1},
              {"sku": "socks", "category": "accessories", "amount": "12.00", "quantity": 1}]
CART_CORRECTED = [{"sku": "boots", "category": "footwear", "amount": "139.00", "quantity": 1}]


def _demo_click(link: TrackingLink) -> Click:
    click_id = new_click_id(int((timezone.now() - timedelta(hours=2)).timestamp() * 1000))
    return Click.objects.create(
        network_id=link.network_id, click_id=click_id, program_id=link.program_id, partnership_id=link.partnership_id,
        link=link, affiliate_id=link.affiliate_id, sub1=link.sub1 or "demo", created_at=click_id_time(click_id),
        country="DE", user_agent="Mozilla/5.0 (demo)",
    )


def seed(ctx: dict) -> None:
    if "links" not in ctx:
        return
    network = ctx["network"]
    advertiser = ctx["advertisers"][0]
    link = (
        TrackingLink.objects.for_network(network)
        .filter(program__advertiser=advertiser, archived=False, partnership__status=Partnership.Status.APPROVED)
        .select_related("program", "partnership").order_by("id").first()
    )
    if link is None:
        return
    program = link.program
    done = set(Conversion.objects.for_network(network).filter(advertiser=advertiser, order_id__startswith="DEMO-")
               .values_list("order_id", flat=True))
    coupon = CouponCode.objects.for_network(network).filter(partnership__program=program).order_by("id").first()
    if coupon is None:
        coupon = CouponCode.objects.create(network=network, partnership=link.partnership, code="DEMO-TRAIL10",
                                           description="10% off (demo)")
    orders = [
        ("DEMO-1001", "129.90", {"click_id": _demo_click(link).click_id} if "DEMO-1001" not in done else None),
        ("DEMO-1002", "54.00", {"coupon": coupon.code}),
        ("DEMO-1003", "19.99", {"program_id": program.pk}),
        ("DEMO-1004", "432.00", {"click_id": _demo_click(link).click_id, "items": CART}
         if "DEMO-1004" not in done else None),
        ("DEMO-1005", "171.00", {"coupon": coupon.code, "items": CART_SMALL}),
    ]
    for order_id, amount, how in orders:
        if order_id in done or how is None:
            continue
        conversion_record(network=network, advertiser=advertiser, order_id=order_id, amount=Decimal(amount),
                          currency=program.currency, customer_id=f"demo-customer-{order_id[-1]}", **how)
    WebhookEndpoint.objects.get_or_create(
        network=network, advertiser=advertiser, url=WEBHOOK_URL,
        defaults={"events": ["conversion.created", "conversion.refunded", "commission.approved"],
                  "description": "Demo endpoint (not reachable)", "is_active": False},
    )
    ctx.setdefault("summary", []).append(
        f"Conversions: {Conversion.objects.for_network(network).count()} (demo orders DEMO-1001..1005)")
