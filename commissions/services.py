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

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from core.bulk import instances_create
from core.money import format_amount, quantize
from network.models import Affiliate, Network, User
from network.services import audit_log_record
from programs.models import Program
from tracking.models import Conversion

from . import ledger
from .caps import caps_apply
from .compute import commissions_compute, second_tier_for
from .daily import commissions_added, commissions_kept
from .ledger import Line
from .models import Account, Commission
from .notifications import commission_notify, commissions_notify
from .reversals import item_reversal_targets, items_refunded, lines_refunded, rebased_targets, reversal_targets
from .rules import TIER_STATUSES
from .signals import REFUNDED, REJECTED, period_sales_lost

Status = Commission.Status
Kind = Account.Kind
ZERO = Decimal(0)
LIABLE = (Status.PENDING, Status.ON_HOLD, Status.APPROVED, Status.PAID)  # statuses whose amount is posted


# The transitions as a sentence names them ("... it cannot be approved"), in the reader's language.
TRANSITION_WORDS = {
    "approved": pgettext_lazy("commission transition", "approved"),
    "rejected": pgettext_lazy("commission transition", "rejected"),
    "paid": pgettext_lazy("commission transition", "paid"),
    "marked unpaid": pgettext_lazy("commission transition", "marked unpaid"),
    "put on hold": pgettext_lazy("commission transition", "put on hold"),
    "released": pgettext_lazy("commission transition", "released"),
}


class TransitionError(Exception):
    """An illegal transition: the API answers 400 naming the current state."""

    def __init__(self, commission: Commission, verb: str):
        from network.i18n import choice_word

        self.commission, self.status = commission, commission.status
        super().__init__(gettext("Commission %(id)s is %(status)s; it cannot be %(verb)s.") % {
            "id": commission.pk, "status": choice_word(Status, commission.status),
            "verb": TRANSITION_WORDS.get(verb, verb)})


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
def _commission_save(commission: Commission, *, key: str) -> Commission:
    """Insert one computed commission and its `created` posting (none when it is born rejected)."""
    commission.save(force_insert=True)
    commissions_added(commission.network_id, [commission.pk])
    if commission.status != Status.REJECTED:
        ledger.transaction_post(
            network=commission.network_id, kind="commission.created", ref=commission, key=f"{key}:created",
            lines=_earning_lines(commission, commission.amount, commission.revenue, Kind.AFFILIATE_PENDING),
        )
    return commission


def commission_create(*, network: Network | int, status: str, key: str, **fields) -> Commission:
    """Write one commission and its `created` posting (none when it is born rejected)."""
    return _commission_save(Commission(network_id=getattr(network, "pk", network), status=status, **fields), key=key)


def _commission_key(commission: Commission) -> str:
    """A computed commission's business key (its `created` posting adds ":created")."""
    if commission.tier == 2:
        return f"commission:{commission.parent_id}:second_tier"
    return f"conversion:{commission.conversion_id}:1"


def second_tier_create(first: Commission, program) -> Commission | None:
    """Write the referrer's override of a written first-tier commission (see `compute.second_tier_for`)."""
    second = second_tier_for(first, program)
    return None if second is None else _commission_save(second, key=_commission_key(second))


def conversion_networks(conversion_ids: list[int], network_ids: list[int] | None) -> dict[int, list[int]]:
    """network id -> the ids of its conversions in the batch. Tasks pass each conversion's network; a message queued
    before they did (network_ids None) has the networks read by id, across networks, as before."""
    if network_ids is None:
        network_ids = [None] * len(conversion_ids)
    if len(network_ids) != len(conversion_ids):
        raise ValueError("one network id per conversion id")
    known: dict[int, list[int]] = {}
    unknown = []
    for conversion_id, network_id in zip(conversion_ids, network_ids, strict=True):
        if network_id is None:
            unknown.append(conversion_id)
        else:
            known.setdefault(network_id, []).append(conversion_id)
    if unknown:
        for conversion_id, network_id in Conversion.objects.filter(pk__in=unknown).values_list("pk", "network_id"):
            known.setdefault(network_id, []).append(conversion_id)
    return known


def _conversions_locked(by_network: dict[int, list[int]]) -> list[Conversion]:
    """The conversions, locked, with each program (network, advertiser), affiliate and paying referrer read once
    for the batch (select_related would make one a row)."""
    # The partnership (its own caps) comes in the same statement; only the conversions are locked.
    # Locked network by network (a lock names its network: Citus runs it on that network's shard), in one order.
    networks = sorted(by_network)
    conversions = sorted((c for network_id in networks
                          for c in Conversion.objects.select_for_update(of=("self",)).select_related("partnership")
                          .filter(network_id=network_id, pk__in=by_network[network_id]).order_by("pk")),
                         key=lambda c: c.pk)
    programs = Program.objects.select_related("network", "advertiser").filter(network_id__in=networks).in_bulk(
        {c.program_id for c in conversions if c.program_id})
    affiliates = Affiliate.objects.filter(network_id__in=networks).in_bulk(
        {c.affiliate_id for c in conversions if c.affiliate_id})
    for conversion in conversions:
        conversion.program = programs.get(conversion.program_id)
        conversion.affiliate = affiliates.get(conversion.affiliate_id)
    referrers = Affiliate.objects.filter(network_id__in=networks).in_bulk({
        c.affiliate.referred_by_id for c in conversions
        if c.affiliate is not None and c.affiliate.referred_by_id and c.program and c.program.second_tier_percent})
    for affiliate in affiliates.values():
        if affiliate.referred_by_id in referrers:
            affiliate.referred_by = referrers[affiliate.referred_by_id]
    return conversions


def _commissions_write(by_network: dict[int, list[int]]) -> dict[int, list[Commission]]:
    """Compute and write the commissions of these conversions (the one writer of conversions' commissions: one by
    one is a batch of one): each conversion's commissions, the ones it already had or the ones written now, tier
    first. A few statements for the whole batch: two bulk INSERTs (first tier, then the overrides), one ledger
    batch per network and one notification batch per event."""
    conversions = _conversions_locked(by_network)
    found = _commissions_found(conversions)
    todo = [c for c in conversions if c.pk not in found]
    computed = commissions_compute(conversions=todo)
    firsts = [first for first, _ in computed]
    seconds = [second for _, second in computed if second is not None]
    try:
        with transaction.atomic():
            # Inside the savepoint: a concurrent copy (IntegrityError below) gives its cap places back.
            caps_apply(computed)
            instances_create(Commission, firsts)
            instances_create(Commission, seconds)  # after the first tier: each names its parent's id
            for network_id in sorted({c.network_id for c in firsts + seconds}):
                commissions_added(network_id, [c.pk for c in firsts + seconds if c.network_id == network_id])
            accounts: dict = {}
            by_network: dict[int, list[ledger.Posting]] = {}
            balances: dict[int, dict] = {}  # network -> account -> amount, added to the balances at the end
            for commission in firsts + seconds:
                if commission.status == Status.REJECTED:
                    continue
                by_network.setdefault(commission.network_id, []).append(ledger.Posting(
                    "commission.created", ref=commission, key=f"{_commission_key(commission)}:created",
                    lines=_earning_lines(commission, commission.amount, commission.revenue, Kind.AFFILIATE_PENDING,
                                         accounts),
                ))
            for network_id, postings in by_network.items():
                ledger.transactions_post(network=network_id, postings=postings,
                                         balances=balances.setdefault(network_id, {}))
    except IntegrityError:  # computed concurrently: the unique constraint kept one copy
        if len(conversions) > 1:
            for conversion in conversions:
                found.update(_commissions_write({conversion.network_id: [conversion.pk]}))
            return found
        return _commissions_found(conversions)
    written: list[Commission] = []
    for first, second in computed:
        made = [first] if second is None else [first, second]
        conversion = first.conversion
        if conversion.refunded_amount and first.status != Status.REJECTED:
            # Refunded before the commission existed (the refund found nothing to reverse): reverse it now.
            reversed_ = _reverse_for_refund(conversion, Decimal(conversion.refunded_amount), made)
            made = [commission for commission, _full in reversed_]
        found[conversion.pk] = made
        written += made
    for event, status_is_rejected in (("commission.created", False), ("commission.rejected", True)):
        commissions_notify([c for c in written if (c.status == Status.REJECTED) == status_is_rejected], event)
    # Last, so the accounts' rows are locked for the least time: a batch of the same network (its revenue account)
    # waits from here to this one's commit only, not from the postings on (before, concurrent batches ran in turn).
    for network_id in sorted(balances):
        ledger.balances_add(network_id, balances[network_id])
    return found


def _commissions_found(conversions: list[Conversion]) -> dict[int, list[Commission]]:
    found: dict[int, list[Commission]] = {}
    if not conversions:
        return found
    rows = Commission.objects.filter(network_id__in={c.network_id for c in conversions},
                                     conversion_id__in=[c.pk for c in conversions])
    for commission in rows.order_by("tier", "pk"):
        found.setdefault(commission.conversion_id, []).append(commission)
    return found


def commissions_for_conversion(*, conversion_id: int, network_id: int | None = None) -> list[Commission]:
    """Compute and write a conversion's commissions (idempotent: a second run returns the first's rows): a batch
    of one."""
    with transaction.atomic():
        return _commissions_write(conversion_networks([conversion_id], [network_id])).get(conversion_id, [])


def commissions_for_conversions(*, conversion_ids: list[int], network_ids: list[int] | None = None) -> int:
    """Compute and write the commissions of a batch of conversions (the postback's kicks), with the statements of
    one (`_commissions_write`). Idempotent. Returns the number of commissions written or found."""
    with transaction.atomic():
        by_network = conversion_networks(list(conversion_ids), network_ids)
        return sum(len(made) for made in _commissions_write(by_network).values())


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
                        | Q(adjusts__in=Commission.objects.filter(network_id=commission.network_id,
                                                                  parent=commission).values("pk")),
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


def _held_by_cap_only(commission: Commission) -> bool:
    """Held because the advertiser's own cap was passed (not by fraud signals): the advertiser decides it."""
    cap = (commission.rule_snapshot or {}).get("cap") or {}
    conversion = commission.conversion
    return bool(cap.get("exceeded")) and (conversion is None or conversion.status != Conversion.Status.HELD)


def _check_held_decider(commission: Commission, operator: bool) -> None:
    if commission.status == Status.ON_HOLD and not operator and not _held_by_cap_only(commission):
        raise TransitionForbidden("Only network operators may decide a commission held for review.")


@transaction.atomic
def commission_approve(*, network: Network, commission: Commission | int, actor: User | None = None,
                       operator: bool = False) -> Commission:
    """pending -> approved (advertiser, operators, the hold-period task); on_hold -> approved (operators; the
    advertiser too when only its cap held it)."""
    commission = _locked(network, commission)
    _check_held_decider(commission, operator)
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
    with commissions_kept(commission.network_id, [commission.pk]):
        commission.save(update_fields=["status", "rejected_at", "reason", "updated_at"])
    ledger.transaction_post(network=commission.network_id, kind="commission.rejected", ref=commission,
                            key=f"commission:{commission.pk}:rejected", lines=lines)
    _audit(commission.network, actor, "commission.rejected", commission, previous=previous, reason=reason)
    commission_notify(commission, "commission.rejected")


@transaction.atomic
def commission_reject(*, network: Network, commission: Commission | int, actor: User | None = None,
                      reason: str = "", operator: bool = False) -> Commission:
    """pending -> rejected (advertiser, operators); on_hold -> rejected (operators). Reverses the posting. After the
    period's tier true-up (`tier_basis: "amount"`) the order no longer counts: its period may be trued up again."""
    commission = _locked(network, commission)
    _check_held_decider(commission, operator)
    if commission.status not in (Status.PENDING, Status.ON_HOLD):
        raise TransitionError(commission, "rejected")
    source = commission.status
    conversion = commission.conversion if commission.tier == 1 else None
    counted = sale_counted(conversion, commission.program.currency) if conversion is not None else ZERO
    _reject_one(commission, actor, reason)
    for child in _children(commission, [source]):
        _reject_one(child, actor, reason)
    if counted:  # after the tier true-up the period's sales lose the order: another tier re-trues the period
        _sales_lost(conversion, counted - sale_counted(conversion, commission.program.currency), REJECTED, actor)
    return commission


def sale_counted(conversion: Conversion, currency: str | None = None) -> Decimal:
    """What the order adds to its period's amount-based tiers (`tier_progress`'s maths): its first-tier commission's
    order amount net of refunds while that commission counts (TIER_STATUSES), when the order is in the program's
    currency (`currency`, else read); else zero (an unattributed order, too)."""
    if conversion.program_id is None or conversion.affiliate_id is None:
        return ZERO
    if conversion.currency != (currency or conversion.program.currency):
        return ZERO
    rows = Commission.objects.filter(network_id=conversion.network_id, conversion_id=conversion.pk, tier=1,
                                     kind=conversion.event, status__in=TIER_STATUSES)
    return sum((Decimal(base) - Decimal(refunded) for base, refunded in rows.values_list("base_amount",
                                                                                          "refunded_base")), ZERO)


def _sales_lost(conversion: Conversion, lost: Decimal, cause: str, actor: User | None) -> None:
    if lost:
        period_sales_lost.send(sender=Commission, conversion=conversion, lost=lost, cause=cause, actor=actor)


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
def _refund_targets(commission: Commission, *, refunded: Decimal, base: Decimal, items: list[dict] | None,
                    seen: dict[int, Commission]) -> tuple[Decimal, Decimal, bool]:
    """(amount, revenue) to have reversed and whether the snapshot changed. A commission priced by item lines
    reverses by line once any item was refunded by name; its referrer's override follows it in proportion. After a
    correction of the refunded order, from where the correction left it (`rebased_targets`)."""
    changed = False
    if (commission.rule_snapshot or {}).get("items") and commission.tier == 1:
        if items:
            commission.rule_snapshot = lines_refunded(commission.rule_snapshot, items)
            changed = True
        if items_refunded(commission):
            raw = item_reversal_targets(commission, refunded=refunded, base=base)
            return (*rebased_targets(commission, refunded=refunded, base=base, raw=raw), changed)
    parent = seen.get(commission.parent_id) if commission.parent_id else None
    if parent is not None and items_refunded(parent) and parent.amount > 0 and refunded < base:
        share = parent.reversed_amount / parent.amount
        return (quantize(commission.amount * share, commission.currency),
                quantize(commission.revenue * share, commission.currency), changed)
    original = None
    if commission.adjusts_id is not None:
        original = seen.get(commission.adjusts_id) or Commission.objects.get(
            network_id=commission.network_id, pk=commission.adjusts_id)
    raw = reversal_targets(commission, refunded=refunded, base=base, original=original)
    return (*rebased_targets(commission, refunded=refunded, base=base, raw=raw), changed)


def _reverse_for_refund(conversion: Conversion, amount: Decimal, commissions: list[Commission] | None = None,
                        items: list[dict] | None = None) -> list:
    base = Decimal(conversion.amount)
    changed = []
    ids = [c.pk for c in commissions] if commissions is not None else None
    qs = Commission.objects.select_for_update(of=("self",)).filter(
        network_id=conversion.network_id, conversion=conversion, status__in=LIABLE)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    seen: dict[int, Commission] = {}
    # Tier then id: a tier adjustment comes after the commission it adjusts, whose reversal it completes.
    for commission in qs.select_related("program", "affiliate", "advertiser").order_by("tier", "pk"):
        seen[commission.pk] = commission
        refunded = min(commission.refunded_base + amount, base) if base > 0 else base
        full = base <= 0 or refunded >= base
        target_amount, target_revenue, snapshot_changed = _refund_targets(commission, refunded=refunded, base=base,
                                                                          items=items, seen=seen)
        d_amount = max(target_amount - commission.reversed_amount, ZERO)
        d_revenue = max(target_revenue - commission.reversed_revenue, ZERO)
        lines = _negate(_earning_lines(commission, d_amount, d_revenue, _liability_kind(commission.status)))
        commission.refunded_base = refunded
        commission.reversed_amount += d_amount
        commission.reversed_revenue += d_revenue
        fields = ["refunded_base", "reversed_amount", "reversed_revenue", "updated_at"]
        if snapshot_changed:
            fields.append("rule_snapshot")
        if full:
            commission.status, commission.reversed_at = Status.REVERSED, timezone.now()
            fields += ["status", "reversed_at"]
        with commissions_kept(commission.network_id, [commission.pk]):
            commission.save(update_fields=fields)
        memo = f"refund {format_amount(amount, conversion.currency, locale='en_US')} of {conversion.order_id}"
        ledger.transaction_post(network=commission.network_id, kind="commission.reversed", ref=commission,
                                lines=lines, memo=memo)
        changed.append((commission, full))
    return changed


@transaction.atomic
def commissions_reverse_for_refund(*, conversion: Conversion, amount: Decimal, actor: User | None = None,
                                   items: list[dict] | None = None) -> list:
    """A refund of `amount` (conversion currency): reverse each commission proportionally (cumulatively, so the
    rounding of several partial refunds never drifts); the whole remaining order reverses them fully. A refund by
    `items` ({sku, amount}) reverses those items' lines of a commission priced by item. After the period's tier
    true-up (`tier_basis: "amount"`) the period's sales lose what was refunded: it may be trued up again."""
    amount = Decimal(amount)
    if amount <= 0:
        return []
    counted = sale_counted(conversion)
    changed = _reverse_for_refund(conversion, amount, items=items)
    for commission, full in changed:
        _audit(conversion.network, actor, "commission.reversed", commission,
               refund=str(quantize(amount, conversion.currency)), full=full)
        commission_notify(commission, "commission.reversed" if full else "commission.partially_reversed")
    # After the tier true-up the period's sales lose what was refunded: another tier re-trues the period.
    _sales_lost(conversion, counted - sale_counted(conversion), REFUNDED, actor)
    return [commission for commission, _ in changed]


def commissions_due(*, now=None, limit: int = 5000) -> list[tuple[int, int]]:
    """(id, network id) of the pending commissions whose hold period is over (all networks), parents first: the
    approval task's work."""
    now = now or timezone.now()
    return list(Commission.objects.filter(status=Status.PENDING, hold_until__lte=now)
                .order_by("tier", "pk").values_list("pk", "network_id")[:limit])
