"""Reads for programs, scoped to a network; rule selection shared with commissions."""

from decimal import Decimal

from django.conf import settings

from network.models import Affiliate, Membership, Network, Role

from .models import CommissionRule, CouponCode, Creative, Partnership, Program, TrackingLink


def program_rules(*, program: Program, event: str) -> list[CommissionRule]:
    """A program's rules for an event, newest first (what `rule_for` chooses from)."""
    return list(CommissionRule.objects.filter(program=program, event=event).order_by("-id"))


def rule_for(*, program: Program, event: str, affiliate: Affiliate | None,
             rules: list[CommissionRule] | None = None) -> CommissionRule | None:
    """The rule that applies: one for this affiliate > one for its group > the default (neither set).

    Among equals the newest wins, so adding a rule replaces the old one without deleting history. `rules`:
    `program_rules` read once for many conversions.
    """
    if rules is None:
        rules = program_rules(program=program, event=event)
    if affiliate is not None:
        for rule in rules:
            if rule.affiliate_id == affiliate.pk:
                return rule
        if affiliate.group:
            for rule in rules:
                if rule.affiliate_id is None and rule.group and rule.group == affiliate.group:
                    return rule
    for rule in rules:
        if rule.affiliate_id is None and not rule.group:
            return rule
    return None


def tier_threshold(tier: dict) -> Decimal:
    """A tier's threshold: `min_conversions` (basis conversions) or `min_amount` (basis amount)."""
    return Decimal(str(tier["min_amount"] if "min_amount" in tier else tier["min_conversions"]))


def tier_rate(*, payout, tiers: list | None, reached) -> Decimal:
    """The rate of the highest tier whose threshold `reached` (conversions or sales in the period) meets; below
    every tier, `payout`. A plain function of values: rule evaluation and the period's true-up share it."""
    rate = Decimal(str(payout))
    reached = Decimal(str(reached))
    for tier in sorted(tiers or [], key=tier_threshold):
        if reached >= tier_threshold(tier):
            rate = Decimal(str(tier["payout"]))
    return rate


def tier_payout(rule: CommissionRule, conversions_in_period) -> Decimal:
    """The payout rate for an affiliate with this many conversions (or this sales amount, for a rule whose
    `tier_basis` is amount) in the tier period.

    Tiers are ascending by their threshold; the highest tier reached wins; below every tier the
    rule's own `payout` applies.
    """
    return tier_rate(payout=rule.payout, tiers=rule.tiers, reached=conversions_in_period)


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
    rules = list(program.rules.all())
    if membership.role != Role.AFFILIATE:
        return rules
    affiliate = membership.party
    return [
        rule for rule in rules
        if rule.affiliate_id == affiliate.pk
        or (rule.affiliate_id is None and (not rule.group or rule.group == affiliate.group))
    ]


def default_link_for(partnership: Partnership) -> TrackingLink | None:
    """The partnership's plain link (no deep link, no sub IDs), which creatives are rendered with."""
    return (
        TrackingLink.objects.filter(partnership=partnership, archived=False, destination_url="",
                                    sub1="", sub2="", sub3="", sub4="", sub5="")
        .order_by("id")
        .first()
    )


def tracking_url(code: str) -> str:
    return f"{settings.TRACKING_BASE_URL}/c/{code}"
