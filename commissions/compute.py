"""Computing commissions: the rows a batch of conversions earns (a single conversion is a batch of one), and the
referrer's second-tier override of any first-tier commission (a sale's or a click's). Nothing here writes: the
services save the rows and post them (`services.commissions_for_conversions`), as the ledger posts a batch."""

from datetime import timedelta

from django.utils import timezone

from core.bulk import instance_new
from core.words import FRAUD_REJECTED_REASON, HELD_REASON
from tracking.fraud_words import off_target_sentence
from tracking.models import Conversion

from .models import Commission
from .rules import evaluate, second_tier_amount

Status = Commission.Status


def conversion_status(conversion: Conversion) -> tuple[str, str]:
    """The status (and reason) a conversion's commissions are born in: the fraud policy's decision."""
    if conversion.status == Conversion.Status.HELD:
        return Status.ON_HOLD, HELD_REASON % {"signals": ", ".join(conversion.fraud_signals or [])}
    if conversion.status == Conversion.Status.REJECTED:
        off_target = next((d for d in conversion.signal_details or [] if d.get("code") == "off_target"), None)
        if off_target is not None:
            return Status.REJECTED, "Outside the program's targeting: " + off_target_sentence(off_target)
        return Status.REJECTED, FRAUD_REJECTED_REASON % {"signals": ", ".join(conversion.fraud_signals or [])}
    return Status.PENDING, ""


def second_tier_for(first: Commission, program) -> Commission | None:
    """The referrer's override (unsaved): second_tier_percent of the first commission's payout, which the
    advertiser pays; it shares the first's status, hold and conversion. None: no referrer, no percent, zero."""
    percent = program.second_tier_percent
    if not percent or first.affiliate.referred_by_id is None:
        return None
    referrer = first.affiliate.referred_by
    if referrer.network_id != first.network_id:
        return None
    amount = second_tier_amount(parent_amount=first.amount, percent=percent, currency=first.currency)
    if amount <= 0:
        return None
    second = Commission(
        network_id=first.network_id, status=first.status, kind=Commission.Kind.SECOND_TIER, tier=2, parent=first,
        program=program, advertiser_id=first.advertiser_id, affiliate=referrer, conversion_id=first.conversion_id,
        rollup_id=first.rollup_id, clicks=first.clicks, clicks_upto=first.clicks_upto, rule=first.rule,
        rule_snapshot={"second_tier_percent": str(percent), "parent_amount": str(first.amount)},
        currency=first.currency, base_amount=first.amount, amount=amount, revenue=amount, reason=first.reason,
        hold_until=first.hold_until, rejected_at=first.rejected_at,
    )
    for relation in ("advertiser", "conversion"):  # what the posting and the notification read, shared
        if getattr(Commission, relation).is_cached(first):
            setattr(second, relation, getattr(first, relation))
    return second


def commissions_compute(*, conversions: list[Conversion], now=None) -> list[tuple[Commission, Commission | None]]:
    """The commissions `conversions` earn, in their order: (first tier, its second-tier override or None), unsaved,
    for each conversion that earns one. Their program (with its network and advertiser) and affiliate (with its
    referrer when the program pays a second tier) are expected loaded. Each program's rules are read once, and
    the batch's earlier conversions count towards a later one's tier, as if they were written one by one."""
    now = now or timezone.now()
    rules: dict = {}
    tally: dict = {}  # tier progress of the batch's own earlier conversions (written together at the end)
    computed = []
    for conversion in conversions:
        evaluation = evaluate(conversion, rules=rules, batch=tally)
        if evaluation is None:
            continue
        program = conversion.program
        status, reason = conversion_status(conversion)
        first = instance_new(
            Commission, {"program": program, "advertiser": program.advertiser, "affiliate": conversion.affiliate,
                         "conversion": conversion, "rule": evaluation.rule},
            network_id=conversion.network_id, status=status, kind=conversion.event, tier=1,
            rule_snapshot=evaluation.snapshot, currency=evaluation.currency,
            base_amount=evaluation.base_amount, amount=evaluation.amount, revenue=evaluation.revenue,
            reason=reason[:255], hold_until=conversion.created_at + timedelta(days=program.hold_days),
            rejected_at=now if status == Status.REJECTED else None,
        )
        computed.append((first, second_tier_for(first, program)))
    return computed
