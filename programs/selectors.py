"""Reads for programs, scoped to a network; rule selection shared with commissions."""

from decimal import Decimal

from network.models import Affiliate

from .models import CommissionRule, Program


def rule_for(*, program: Program, event: str, affiliate: Affiliate | None) -> CommissionRule | None:
    """The rule that applies: one for this affiliate > one for its group > the default (neither set).

    Among equals the newest wins, so adding a rule replaces the old one without deleting history.
    """
    rules = list(CommissionRule.objects.filter(program=program, event=event).order_by("-id"))
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


def tier_payout(rule: CommissionRule, conversions_in_period: int) -> Decimal:
    """The payout rate for an affiliate with this many approved conversions in the tier period.

    Tiers are ascending by `min_conversions`; the highest tier reached wins; below every tier the
    rule's own `payout` applies.
    """
    payout = Decimal(rule.payout)
    for tier in sorted(rule.tiers or [], key=lambda t: int(t["min_conversions"])):
        if conversions_in_period >= int(tier["min_conversions"]):
            payout = Decimal(str(tier["payout"]))
    return payout
