"""Demo programs: a percent sale program with performance tiers and a fixed lead program (advertiser 0), a
subscription program with recurring commissions (advertiser 1); creatives, coupons, approved partnerships and
tracking links with sub IDs. The sale program also shows the advertiser controls (CONTROLS): targeting, caps and
product-level rates. Link codes are fixed so the README's examples work; running twice adds nothing."""

import io
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from network.models import PartnerGroup

from . import services
from .models import CouponCode, Creative, Partnership, Program, TrackingLink
from .selectors import link_url

PROGRAMS = [
    {
        "advertiser": 0,
        "name": "Northwind Trail Gear",
        "description": "Tents, packs and boots. 8 % of every sale; 10 % from 10 and 12 % from 50 sales a month.",
        "landing_url": "https://www.northwind.test/",
        "allowed_domains": ["*.northwind.test"],
        "approval": Program.Approval.MANUAL,
        "hold_days": 30,
        "second_tier_percent": Decimal("5"),
        "terms": "No bidding on the Northwind brand in paid search.",
        "rules": [
            {"event": "sale", "kind": "percent", "payout": Decimal("8"), "revenue": Decimal("10"),
             "tiers": [{"min_conversions": 10, "payout": "10"}, {"min_conversions": 50, "payout": "12"}]},
            {"event": "sale", "kind": "percent", "payout": Decimal("11"), "revenue": Decimal("13"), "group": "gold"},
        ],
    },
    {
        "advertiser": 0,
        "name": "Northwind Newsletter Leads",
        "description": "EUR 2.50 for every confirmed newsletter sign-up.",
        "landing_url": "https://www.northwind.test/newsletter",
        "allowed_domains": [],
        "approval": Program.Approval.AUTO,
        "hold_days": 14,
        # Caps and a budget the demo's traffic stays well within (the pages show what is left).
        "caps": {"conversions_day": 500, "conversions_month": 5000, "payout_month": "10000.00", "action": "hold"},
        "rules": [{"event": "lead", "kind": "fixed", "payout": Decimal("2.50"), "revenue": Decimal("3.00")}],
    },
    {
        "advertiser": 1,
        "name": "Blue Lantern Pro",
        "description": "Project planning SaaS: 30 % of every payment for the first 12 months of a subscription.",
        "landing_url": "https://bluelantern.test/pricing",
        "allowed_domains": ["bluelantern.test", "docs.bluelantern.test"],
        "approval": Program.Approval.MANUAL,
        "hold_days": 30,
        "second_tier_percent": Decimal("5"),
        "rules": [{"event": "sale", "kind": "percent", "payout": Decimal("30"), "revenue": Decimal("35"),
                   "recurring_months": 12}],
    },
]
# The advertiser controls on Northwind Trail Gear, added to a demo seeded before them too: targeting (no clicks from
# two countries, no tablets), caps its traffic stays within (the pages show what is left) and product-level rates
# for the demo shop's tent (by SKU) and footwear (by category); tracking.demo records orders with such items.
CONTROLS = {
    "targeting": {"countries_allowed": [], "countries_blocked": ["CN", "VN"], "devices": ["desktop", "mobile"]},
    "caps": {"conversions_day": 300, "conversions_month": 3000, "payout_month": "20000.00", "action": "hold"},
    "rules": [
        {"event": "sale", "kind": "fixed", "payout": Decimal("20"), "revenue": Decimal("24"),
         "match": {"sku": ["tent"]}},
        {"event": "sale", "kind": "percent", "payout": Decimal("15"), "revenue": Decimal("18"),
         "match": {"category": ["footwear"]}},
    ],
}


def _controls(network, program: Program) -> Program:
    """Put CONTROLS on the program where it lacks them (once: an advertiser's later changes are kept)."""
    fields = {name: CONTROLS[name] for name in ("targeting", "caps") if not getattr(program, name)}
    rules = [] if program.rules.exclude(match={}).exists() else CONTROLS["rules"]
    if not fields and not rules:
        return program
    return services.program_update(network=network, program=program, actor=None, rules=rules, **fields)


# Where Northwind's programs land when this server has the demo shop (DEMO_SHOP_URL, tracking.demo_shop): its
# "Buy" and "Sign up" buttons report the sale or the lead, so a demo link leads to a conversion in the browser.
DEMO_SHOP_LANDINGS = {0: "", 1: "?list=newsletter"}


def _landing_url(index: int, spec: dict) -> str:
    shop = settings.DEMO_SHOP_URL
    if shop and index in DEMO_SHOP_LANDINGS:
        return shop + DEMO_SHOP_LANDINGS[index]
    return spec["landing_url"]


# (program index, affiliate index, status)
PARTNERSHIPS = [(0, 0, "approved"), (0, 1, "approved"), (1, 0, "approved"), (1, 1, "approved"),
                (2, 2, "approved"), (2, 0, "approved"), (0, 2, "pending"), (0, 3, "approved")]
# (code, program index, affiliate index, deep link, sub IDs)
LINKS = [
    ("trailgear01", 0, 0, "", {"sub1": "blog", "sub2": "sidebar"}),
    ("trailtents1", 0, 0, "https://www.northwind.test/tents", {"sub1": "review", "sub2": "tents-2026"}),
    ("dealsgear01", 0, 1, "", {"sub1": "newsletter"}),
    ("trailnews01", 1, 0, "", {"sub1": "footer"}),
    ("dealsnews01", 1, 1, "", {"sub1": "facebook", "sub3": "spring"}),
    ("cloudpro001", 2, 2, "", {"sub1": "youtube"}),
    ("cloudpro002", 2, 2, "https://docs.bluelantern.test/start", {"sub1": "tutorial"}),
    ("trailpro001", 2, 0, "", {"sub1": "blog"}),
    ("summitgear1", 0, 3, "", {"sub1": "instagram"}),  # the affiliate who joined through a referral link
]
# (program index, kind, name, body)
CREATIVES = [
    (0, "banner", "Trail Gear 300x250", ""),
    (0, "text", "Trail Gear text link", "Gear up for the trail at Northwind"),
    (1, "html", "Newsletter sign-up box",
     '<div class="nw-box"><p>Weekly trail tips</p><a href="{tracking_url}">Sign up free</a></div>'),
    (2, "email", "Blue Lantern e-mail",
     "Subject: Plan projects without the chaos\n\nTry Blue Lantern Pro free for 14 days: {tracking_url}"),
]
# (code, program index, affiliate index)
COUPONS = [("TRAIL10", 0, 0), ("DEALS15", 0, 1), ("CLOUD20", 2, 2)]


def _banner_png() -> ContentFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 250), (34, 85, 51))
    ImageDraw.Draw(image).text((20, 110), "Northwind Trail Gear", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="northwind-300x250.png")


def seed(ctx: dict) -> None:
    network, advertisers, affiliates = ctx["network"], ctx["advertisers"], ctx["affiliates"]
    programs = []
    for index, spec in enumerate(PROGRAMS):
        spec = dict(spec, landing_url=_landing_url(index, spec))
        advertiser = advertisers[spec.pop("advertiser")]
        program = Program.objects.for_network(network).filter(advertiser=advertiser, name=spec["name"]).first()
        if program is not None and program.landing_url != spec["landing_url"]:
            # Seeded before with another shop address (or none): follow this server's.
            program = services.program_update(network=network, program=program, actor=None,
                                              landing_url=spec["landing_url"])
        if program is None:
            # A rule's group is named here; the tenancy demo created the group.
            spec["rules"] = [rule | {"group": PartnerGroup.objects.for_network(network).get(name=rule["group"])}
                             if "group" in rule else rule for rule in spec["rules"]]
            program = services.program_create(network=network, advertiser=advertiser, actor=None,
                                              currency=network.default_currency, **spec)
        if index == 0:
            program = _controls(network, program)
        programs.append(program)

    partnerships = {}
    for program_index, affiliate_index, status in PARTNERSHIPS:
        program, affiliate = programs[program_index], affiliates[affiliate_index]
        decided = status != Partnership.Status.PENDING
        partnership, _ = Partnership.objects.get_or_create(
            network=network, program=program, affiliate=affiliate,
            defaults={"status": status, "decided_at": timezone.now() if decided else None,
                      "decided_by": program.advertiser.membership.user if decided else None},
        )
        partnerships[(program_index, affiliate_index)] = partnership

    links = []
    for code, program_index, affiliate_index, deep_link, subs in LINKS:
        partnership = partnerships[(program_index, affiliate_index)]
        link, _ = TrackingLink.objects.get_or_create(
            network=network, code=code,
            defaults={"partnership": partnership, "program": partnership.program,
                      "affiliate": partnership.affiliate, "destination_url": deep_link, **subs},
        )
        links.append(link)

    creatives = []
    for program_index, kind, name, body in CREATIVES:
        program = programs[program_index]
        creative = Creative.objects.for_network(network).filter(program=program, name=name).first()
        if creative is None:
            creative = services.creative_create(network=network, program=program, actor=None, kind=kind, name=name,
                                                body=body, image=_banner_png() if kind == "banner" else None)
        creatives.append(creative)

    coupons = []
    for code, program_index, affiliate_index in COUPONS:
        coupon = CouponCode.objects.for_network(network).filter(code=code).first()
        if coupon is None:
            coupon = services.coupon_create(network=network, partnership=partnerships[(program_index, affiliate_index)],
                                            code=code, actor=None)
        coupons.append(coupon)

    ctx.update(programs=programs, partnerships=list(partnerships.values()), links=links, creatives=creatives,
               coupons=coupons)
    ctx.setdefault("summary", []).extend([
        "Programs: " + ", ".join(f"{p.name} (id {p.pk})" for p in programs),
        f"Tracking link: {link_url(links[0])} (coupon codes: {', '.join(c.code for c in coupons)})",
    ])
    if settings.DEMO_SHOP_URL:
        ctx["summary"].append(f"Demo shop: {settings.DEMO_SHOP_URL} (Northwind's links land there; 'Buy' reports"
                              " the sale)")
