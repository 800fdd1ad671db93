"""Writes for commissions: creation from a conversion, one guarded function per transition, refund reversals.

Each function is one database transaction: the commission row changes and its ledger posting commit
together or not at all. Ledger postings per event (R = revenue, P = payout, M = R - P, the margin):
created   DR advertiser_receivable R / CR affiliate_pending P / CR network_revenue M
approved  DR affiliate_pending P / CR affiliate_approved P            (what remains after reversals)
rejected  the opposite of `created` for what remains
reversed  the opposite of `created` for the refunded share, taken from pending (pending/on hold) or from
          approved (approved/paid: after a payout this leaves a negative balance the next payout nets out)
A conversion the fraud policy rejected yields a `rejected` commission with no posting (visible, never owed).
"""

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.money import format_amount, quantize
from network.models import Affiliate, Network, User
from network.services import audit_log_record
from programs.models import Program
from tracking.models import Conversion

from . import ledger
from .ledger import Line
from .models import Account, Commission
from .notifications import commission_notify, commissions_notify
from .reversals import reversal_targets
from .rules import evaluate

Status = Commission.Status
Kind = Account.Kind
ZERO = Decimal(0)
LIABLE = (Status.PENDING, Status.ON_HOLD, Status.APPROVED, Status.PAID)  # statuses whose amount is posted


class TransitionError(Exception):
    """An illegal transition: the API answers 400 naming the current state."""

    def __init__(self, commission: Commission, verb: str):
        self.commission, self.status = commission, commission.status
        super().__init__(f"Commission {commission.pk} is {commission.status}; it cannot be {verb}.")


class TransitionForbidden(Exception):
    """The transition exists but not for this caller (held commissions: operators only)."""


# --- ledger postings -------------------------------------------------------------------
def _liability_kind(status: str) -> str:
    return Kind.AFFILIATE_PENDING if status in (Status.PENDING, Status.ON_HOLD) else Kind.AFFILIATE_APPROVED


def _earning_lines(commission: Commission, payout: Decimal, revenue: Decimal, liability_kind: str,
                   accounts: dict | None = None) -> list[Line]:
    """Lines of `created` for these amounts (negate them to reverse). `accounts`: a batch's account cache."""
    c = commission
    receivable = ledger.account_for(network=c.network_id, currency=c.currency, kind=Kind.ADVERTISER_RECEIVABLE,
                                    advertiser=c.advertiser, cache=accounts)
    payable = ledger.account_for(network=c.network_id, currency=c.currency, kind=liability_kind,
                                 affiliate=c.affiliate, cache=accounts)
    margin = ledger.account_for(network=c.network_id, currency=c.currency, kind=Kind.NETWORK_REVENUE, cache=accounts)
    return [Line(receivable, revenue), Line(payable, -payout), Line(margin, payout - revenue)]


def _negate(lines: list[Line]) -> list[Line]:
    return [Line(line.account, -line.amount) for line in lines]


# --- creation --------------------------------------------------------------------------
def commission_create(*, network: Network | int, status: str, key: str, **fields) -> Commission:
    """Write one commission and its `created` posting (none when it is born rejected)."""
    commission = Commission.objects.create(network_id=getattr(network, "pk", network), status=status, **fields)
    if status != Status.REJECTED:
        ledger.transaction_post(
            network=commission.network_id, kind="commission.created", ref=commission, key=f"{key}:created",
            lines=_earning_lines(commission, commission.amount, commission.revenue, Kind.AFFILIATE_PENDING),
        )
    return commission


def _status_for(conversion: Conversion) -> tuple[str, str]:
    if conversion.status == Conversion.Status.HELD:
        return Status.ON_HOLD, "Held for review: " + ", ".join(conversion.fraud_signals or [])
    if conversion.status == Conversion.Status.REJECTED:
        return Status.REJECTED, "Rejected by the fraud policy: " + ", ".join(conversion.fraud_signals or [])
    return Status.PENDING, ""


def _first_tier_key(conversion_id: int) -> str:
    """The business key of a conversion's first-tier commission (its `created` posting adds ":created")."""
    return f"conversion:{conversion_id}:1"


def _first_tier_fields(conversion: Conversion, evaluation, now) -> dict:
    """The first-tier commission of a conversion (status included), as one by one and in batches write it."""
    program = conversion.program
    status, reason = _status_for(conversion)
    return {
        "status": status, "kind": conversion.event, "tier": 1, "program": program, "advertiser": program.advertiser,
        "affiliate": conversion.affiliate, "conversion": conversion, "rule": evaluation.rule,
        "rule_snapshot": evaluation.snapshot, "currency": evaluation.currency,
        "base_amount": evaluation.base_amount, "amount": evaluation.amount, "revenue": evaluation.revenue,
        "reason": reason[:255], "hold_until": conversion.created_at + timedelta(days=program.hold_days),
        "rejected_at": now if status == Status.REJECTED else None,
    }


def commissions_for_conversion(*, conversion_id: int) -> list[Commission]:
    """Compute and write a conversion's commissions (idempotent: a second run returns the first's rows)."""
    with transaction.atomic():
        conversion = (Conversion.objects.select_for_update(of=("self",))
                      .select_related("program__network", "program__advertiser", "affiliate")
                      .filter(pk=conversion_id).first())
        if conversion is None:
            return []
        existing = list(Commission.objects.filter(conversion=conversion).order_by("tier"))
        if existing:
            return existing
        evaluation = evaluate(conversion)
        if evaluation is None:
            return []
        program = conversion.program
        fields = _first_tier_fields(conversion, evaluation, timezone.now())
        status = fields.pop("status")
        try:
            with transaction.atomic():
                first = commission_create(network=conversion.network_id, status=status,
                                          key=_first_tier_key(conversion.pk), **fields)
                created = [first]
                second = second_tier_create(first, program)
                if second is not None:
                    created.append(second)
        except IntegrityError:  # computed concurrently: the unique constraint kept one copy
            return list(Commission.objects.filter(conversion=conversion).order_by("tier"))
        if conversion.refunded_amount and status != Status.REJECTED:
            # Refunded before the commission existed (the refund found nothing to reverse): reverse it now.
            _reverse_for_refund(conversion, Decimal(conversion.refunded_amount), created)
        for commission in created:
            commission.refresh_from_db()
            event = "commission.rejected" if commission.status == Status.REJECTED else "commission.created"
            commission_notify(commission, event)
        return created


def commissions_for_conversions(*, conversion_ids: list[int]) -> int:
    """`commissions_for_conversion` for a batch (the postback's kicks): the same commissions, postings and
    notifications, written with a few statements for the whole batch instead of some thirty per conversion.
    Conversions with a refund already recorded or a second-tier referrer take the one-by-one path. Idempotent.
    Returns the number of commissions written or found."""
    one_by_one, count = [], 0
    with transaction.atomic():
        conversions = list(Conversion.objects.select_for_update().filter(pk__in=conversion_ids).order_by("pk"))
        # Each program, advertiser, network and affiliate once for the batch (select_related makes one a row).
        programs = Program.objects.select_related("network", "advertiser").in_bulk(
            {c.program_id for c in conversions if c.program_id})
        affiliates = Affiliate.objects.in_bulk({c.affiliate_id for c in conversions if c.affiliate_id})
        for conversion in conversions:
            conversion.program = programs.get(conversion.program_id)
            conversion.affiliate = affiliates.get(conversion.affiliate_id)
        existing = list(Commission.objects.filter(conversion__in=conversions).values_list("conversion_id", flat=True))
        done, count = set(existing), len(existing)
        rules: dict = {}
        tally: dict = {}  # tier progress of the batch's own earlier conversions (written together at the end)
        now = timezone.now()
        fresh: list[Commission] = []
        for conversion in conversions:
            if conversion.pk in done:
                continue
            program, affiliate = conversion.program, conversion.affiliate
            if conversion.refunded_amount or (
                    affiliate is not None and affiliate.referred_by_id and program.second_tier_percent):
                one_by_one.append(conversion.pk)
                continue
            evaluation = evaluate(conversion, rules=rules, batch=tally)
            if evaluation is not None:
                fresh.append(Commission(network_id=conversion.network_id,
                                        **_first_tier_fields(conversion, evaluation, now)))
        Commission.objects.bulk_create(fresh)
        accounts: dict = {}
        by_network: dict[int, list[ledger.Posting]] = {}
        for commission in fresh:
            if commission.status == Status.REJECTED:
                continue
            by_network.setdefault(commission.network_id, []).append(ledger.Posting(
                "commission.created", ref=commission, key=f"{_first_tier_key(commission.conversion_id)}:created",
                lines=_earning_lines(commission, commission.amount, commission.revenue, Kind.AFFILIATE_PENDING,
                                     accounts),
            ))
        for network_id, postings in by_network.items():
            ledger.transactions_post(network=network_id, postings=postings)
        for event, status_is_rejected in (("commission.created", False), ("commission.rejected", True)):
            commissions_notify([c for c in fresh if (c.status == Status.REJECTED) == status_is_rejected], event)
        count += len(fresh)
    for conversion_id in one_by_one:
        count += len(commissions_for_conversion(conversion_id=conversion_id))
    return count


def second_tier_create(first: Commission, program) -> Commission | None:
    """The referrer's override: second_tier_percent of the first commission's payout (advertiser pays it)."""
    referrer = first.affiliate.referred_by
    percent = program.second_tier_percent
    if referrer is None or not percent or referrer.network_id != first.network_id:
        return None
    amount = quantize(first.amount * Decimal(percent) / Decimal(100), first.currency)
    if amount <= 0:
        return None
    return commission_create(
        network=first.network_id, status=first.status, key=f"commission:{first.pk}:second_tier",
        kind=Commission.Kind.SECOND_TIER, tier=2, parent=first, program=program, advertiser_id=first.advertiser_id,
        affiliate=referrer, conversion_id=first.conversion_id, rollup_id=first.rollup_id, clicks=first.clicks,
        clicks_upto=first.clicks_upto, rule=first.rule,
        rule_snapshot={"second_tier_percent": str(percent), "parent_amount": str(first.amount)},
        currency=first.currency, base_amount=first.amount, amount=amount, revenue=amount, reason=first.reason,
        hold_until=first.hold_until, rejected_at=first.rejected_at,
    )


# --- transitions -----------------------------------------------------------------------
def _locked(network: Network, commission: Commission | int) -> Commission:
    pk = commission if isinstance(commission, int) else commission.pk
    return Commission.objects.select_for_update(of=("self",)).select_related("program", "affiliate", "conversion").get(
        network=network, pk=pk
    )


def _children(commission: Commission, statuses) -> list[Commission]:
    """A commission's second-tier overrides and tier adjustments (its own and its overrides') in these statuses:
    they follow its decisions."""
    return list(Commission.objects.select_for_update()
                .filter(Q(parent=commission) | Q(adjusts=commission)
                        | Q(adjusts__in=Commission.objects.filter(parent=commission).values("pk")),
                        network_id=commission.network_id,
                        status__in=statuses).order_by("pk"))


def _audit(network, actor, action, commission, **data):
    audit_log_record(network=network, actor=actor, action=action, target=commission, data=data)


def _approve_one(commission: Commission, actor: User | None) -> None:
    previous = commission.status
    commission.status, commission.approved_at = Status.APPROVED, timezone.now()
    commission.save(update_fields=["status", "approved_at", "updated_at"])
    if previous in (Status.PENDING, Status.ON_HOLD):
        pending = ledger.account_for(network=commission.network_id, currency=commission.currency,
                                     kind=Kind.AFFILIATE_PENDING, affiliate=commission.affiliate)
        approved = ledger.account_for(network=commission.network_id, currency=commission.currency,
                                      kind=Kind.AFFILIATE_APPROVED, affiliate=commission.affiliate)
        remaining = commission.remaining_amount
        ledger.transaction_post(network=commission.network_id, kind="commission.approved", ref=commission,
                                key=f"commission:{commission.pk}:approved",
                                lines=[Line(pending, remaining), Line(approved, -remaining)])
    _audit(commission.network, actor, "commission.approved", commission, previous=previous)
    commission_notify(commission, "commission.approved")


@transaction.atomic
def commission_approve(*, network: Network, commission: Commission | int, actor: User | None = None,
                       operator: bool = False) -> Commission:
    """pending -> approved (advertiser, operators, the hold-period task); on_hold -> approved (operators)."""
    commission = _locked(network, commission)
    if commission.status == Status.ON_HOLD and not operator:
        raise TransitionForbidden("Only network operators may decide a commission held for review.")
    if commission.status not in (Status.PENDING, Status.ON_HOLD):
        raise TransitionError(commission, "approved")
    source = commission.status
    _approve_one(commission, actor)
    for child in _children(commission, [source]):
        _approve_one(child, actor)
    return commission


def _reject_one(commission: Commission, actor: User | None, reason: str) -> None:
    previous = commission.status
    lines = _negate(_earning_lines(commission, commission.remaining_amount, commission.remaining_revenue,
                                   Kind.AFFILIATE_PENDING))
    commission.status, commission.rejected_at = Status.REJECTED, timezone.now()
    commission.reason = (reason or commission.reason)[:255]
    commission.save(update_fields=["status", "rejected_at", "reason", "updated_at"])
    ledger.transaction_post(network=commission.network_id, kind="commission.rejected", ref=commission,
                            key=f"commission:{commission.pk}:rejected", lines=lines)
    _audit(commission.network, actor, "commission.rejected", commission, previous=previous, reason=reason)
    commission_notify(commission, "commission.rejected")


@transaction.atomic
def commission_reject(*, network: Network, commission: Commission | int, actor: User | None = None,
                      reason: str = "", operator: bool = False) -> Commission:
    """pending -> rejected (advertiser, operators); on_hold -> rejected (operators). Reverses the posting."""
    commission = _locked(network, commission)
    if commission.status == Status.ON_HOLD and not operator:
        raise TransitionForbidden("Only network operators may decide a commission held for review.")
    if commission.status not in (Status.PENDING, Status.ON_HOLD):
        raise TransitionError(commission, "rejected")
    source = commission.status
    _reject_one(commission, actor, reason)
    for child in _children(commission, [source]):
        _reject_one(child, actor, reason)
    return commission


def _set_status(network, commission, *, source, target, verb, event, actor, reason="") -> Commission:
    commission = _locked(network, commission)
    if commission.status != source:
        raise TransitionError(commission, verb)
    targets = [commission, *_children(commission, [source])]
    for item in targets:
        item.status = target
        if reason:
            item.reason = reason[:255]
        item.save(update_fields=["status", "reason", "updated_at"])
        _audit(network, actor, event, item, previous=source, reason=reason)
        commission_notify(item, event)
    return commission


@transaction.atomic
def commission_hold(*, network: Network, commission: Commission | int, actor: User | None = None,
                    reason: str = "") -> Commission:
    """pending -> on_hold (operators, for review). Money stays in pending; the hold task skips it."""
    return _set_status(network, commission, source=Status.PENDING, target=Status.ON_HOLD, verb="put on hold",
                       event="commission.on_hold", actor=actor, reason=reason)


@transaction.atomic
def commission_release(*, network: Network, commission: Commission | int, actor: User | None = None) -> Commission:
    """on_hold -> pending after review (operators): the hold period then runs as usual."""
    return _set_status(network, commission, source=Status.ON_HOLD, target=Status.PENDING, verb="released",
                       event="commission.released", actor=actor)


@transaction.atomic
def commissions_mark_paid(*, network: Network, commission_ids: list[int], actor: User | None = None,
                          ref=None) -> list[Commission]:
    """approved -> paid for a set (all or none). The payouts app posts the money with `ledger_payout_*`."""
    commissions = list(Commission.objects.select_for_update(of=("self",)).filter(network=network, pk__in=commission_ids)
                       .select_related("program", "affiliate", "conversion").order_by("pk"))
    if len(commissions) != len(set(commission_ids)):
        raise Commission.DoesNotExist("Some commissions are not in this network.")
    now = timezone.now()
    for commission in commissions:
        if commission.status != Status.APPROVED:
            raise TransitionError(commission, "paid")
        commission.status, commission.paid_at = Status.PAID, now
        commission.save(update_fields=["status", "paid_at", "updated_at"])
        # The payout's own e-mail covers these; the event still reaches webhooks and the postback.
        commission_notify(commission, "commission.paid", email=False)
    if commissions:
        audit_log_record(network=network, actor=actor, action="commissions.paid", target=ref,
                         data={"ids": [c.pk for c in commissions]})
    return commissions


@transaction.atomic
def commission_mark_unpaid(*, network: Network, commission: Commission | int, actor: User | None = None
                           ) -> Commission:
    """paid -> approved when the payout failed (the payouts app posts `ledger_payout_failed`)."""
    commission = _locked(network, commission)
    if commission.status != Status.PAID:
        raise TransitionError(commission, "marked unpaid")
    commission.status, commission.paid_at = Status.APPROVED, None
    commission.save(update_fields=["status", "paid_at", "updated_at"])
    _audit(network, actor, "commission.unpaid", commission)
    return commission


# --- refunds ---------------------------------------------------------------------------
def _reverse_for_refund(conversion: Conversion, amount: Decimal, commissions: list[Commission] | None = None) -> list:
    base = Decimal(conversion.amount)
    changed = []
    ids = [c.pk for c in commissions] if commissions is not None else None
    qs = Commission.objects.select_for_update(of=("self",)).filter(conversion=conversion, status__in=LIABLE)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    seen: dict[int, Commission] = {}
    # Tier then id: a tier adjustment comes after the commission it adjusts, whose reversal it completes.
    for commission in qs.select_related("program", "affiliate", "advertiser").order_by("tier", "pk"):
        seen[commission.pk] = commission
        refunded = min(commission.refunded_base + amount, base) if base > 0 else base
        full = base <= 0 or refunded >= base
        original = None
        if commission.adjusts_id is not None:
            original = seen.get(commission.adjusts_id) or Commission.objects.get(pk=commission.adjusts_id)
        target_amount, target_revenue = reversal_targets(commission, refunded=refunded, base=base,
                                                         original=original)
        d_amount = max(target_amount - commission.reversed_amount, ZERO)
        d_revenue = max(target_revenue - commission.reversed_revenue, ZERO)
        lines = _negate(_earning_lines(commission, d_amount, d_revenue, _liability_kind(commission.status)))
        commission.refunded_base = refunded
        commission.reversed_amount += d_amount
        commission.reversed_revenue += d_revenue
        fields = ["refunded_base", "reversed_amount", "reversed_revenue", "updated_at"]
        if full:
            commission.status, commission.reversed_at = Status.REVERSED, timezone.now()
            fields += ["status", "reversed_at"]
        commission.save(update_fields=fields)
        memo = f"refund {format_amount(amount, conversion.currency)} of {conversion.order_id}"
        ledger.transaction_post(network=commission.network_id, kind="commission.reversed", ref=commission,
                                lines=lines, memo=memo)
        changed.append((commission, full))
    return changed


@transaction.atomic
def commissions_reverse_for_refund(*, conversion: Conversion, amount: Decimal, actor: User | None = None) -> list:
    """A refund of `amount` (conversion currency): reverse each commission proportionally (cumulatively, so the
    rounding of several partial refunds never drifts); the whole remaining order reverses them fully."""
    amount = Decimal(amount)
    if amount <= 0:
        return []
    changed = _reverse_for_refund(conversion, amount)
    for commission, full in changed:
        _audit(conversion.network, actor, "commission.reversed", commission,
               refund=str(quantize(amount, conversion.currency)), full=full)
        commission_notify(commission, "commission.reversed" if full else "commission.partially_reversed")
    return [commission for commission, _ in changed]


def commissions_due_ids(*, now=None, limit: int = 5000) -> list[int]:
    """Pending commissions whose hold period is over (all networks), parents first: the approval task's work."""
    now = now or timezone.now()
    return list(Commission.objects.filter(status=Status.PENDING, hold_until__lte=now)
                .order_by("tier", "pk").values_list("pk", flat=True)[:limit])
