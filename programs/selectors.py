"""Reads for programs, scoped to a network. Which rule pays a conversion is commissions' (commissions/rules.py)."""

from network.hosts import tracking_base_url
from network.models import Membership, Network, Role

from .models import CommissionRule, CouponCode, Creative, Partnership, Program, TrackingLink


# --- visibility: what one membership may see of its network's rows -----------------------------
# The role filter itself is `TenantQuerySet.visible_to(membership)` with each model's `party_fields`; these
# selectors add what a surface shows beyond it (the marketplace, usable creatives) and the joins it renders.
def programs_visible_to(*, network: Network, membership: Membership):
    """The programs surface (API list, marketplace, pickers): `Program.objects.visible_to` (affiliates: the programs
    they partner in, in any status), plus for affiliates the marketplace's active public programs; an affiliate
    never sees a draft here. Reports use `visible_to` alone: an affiliate reports on programs it partners in."""
    visible = Program.objects.for_network(network).visible_to(membership)
    if membership.role != Role.AFFILIATE:
        return visible
    marketplace = Program.objects.for_network(network).filter(status=Program.Status.ACTIVE,
                                                              visibility=Program.Visibility.PUBLIC)
    return (visible | marketplace).exclude(status=Program.Status.DRAFT)


def partnerships_visible_to(*, network: Network, membership: Membership):
    """Affiliates: their own; advertisers: those in their programs; operators: all."""
    return Partnership.objects.for_network(network).visible_to(membership).select_related(
        "program", "affiliate", "decided_by")


def links_visible_to(*, network: Network, membership: Membership):
    return TrackingLink.objects.for_network(network).visible_to(membership)


def coupons_visible_to(*, network: Network, membership: Membership):
    return CouponCode.objects.for_network(network).visible_to(membership).select_related(
        "partnership__program", "partnership__affiliate")


def creatives_visible_to(*, network: Network, membership: Membership):
    """Affiliates: active creatives of programs they are approved in (`visible_to` alone: any partnership);
    advertisers: their programs'; operators: all."""
    qs = Creative.objects.for_network(network).visible_to(membership).select_related("program")
    if membership.role == Role.AFFILIATE:
        approved = Partnership.objects.for_network(network).visible_to(membership).filter(
            status=Partnership.Status.APPROVED).values("program_id")
        return qs.filter(is_active=True, program_id__in=approved)
    return qs


def rules_visible_to(*, program: Program, membership: Membership) -> list[CommissionRule]:
    """An affiliate sees the default rules and those for its group or itself; others see every rule."""
    rules = list(program.rules.all())  # prefetched with their groups by list views
    if membership.role != Role.AFFILIATE:
        return rules
    affiliate = membership.party
    return [
        rule for rule in rules
        if rule.affiliate_id == affiliate.pk
        or (rule.affiliate_id is None and rule.group_id in (None, affiliate.group_id))
    ]


def default_link_for(partnership: Partnership) -> TrackingLink | None:
    """The partnership's plain link (no deep link, no sub IDs), which creatives are rendered with."""
    return (
        TrackingLink.objects.filter(network_id=partnership.network_id, partnership=partnership, archived=False,
                                    destination_url="", sub1="", sub2="", sub3="", sub4="", sub5="")
        .order_by("id")
        .first()
    )


def tracking_url(code: str, *, network_id: int, advertiser_id=None) -> str:
    """A /c/ URL: every link, creative and snippet is built here, on the network's verified tracking domain (or
    the program's advertiser's: `advertiser_id`, an id or a callable giving it), else on the platform's address
    (network.hosts)."""
    return f"{tracking_base_url(network_id=network_id, advertiser_id=advertiser_id)}/c/{code}"


def link_url(link: TrackingLink) -> str:
    """The full URL of a tracking link (its program is read only when some advertiser has a domain)."""
    return tracking_url(link.code, network_id=link.network_id, advertiser_id=lambda: link.program.advertiser_id)
