"""Payout batches: a resumable state machine, persisted step by step, that pays every affiliate exactly once.

gathering  per (affiliate, currency), one transaction: lock the approved account, write the Payout, post
           `ledger_payout_batched`, mark the commissions paid. A re-run skips what this batch already wrote.
paying     per pending payout: Stripe Connect gets `attempted_at` committed first, then (in a transaction holding
           the payout's row lock) a transfer with the payout reference as idempotency key and transfer_group;
           a re-run after a crash first lists transfers by that group, so a transfer is never made twice.
           PayPal and bank payouts are queued for the operator's CSV (status processing).
Only one batch per network may be gathering or paying (a partial unique index): a second start is refused.
"""

import logging
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from commissions import ledger
from commissions.models import Account
from commissions.selectors import payable_commissions
from commissions.services import commissions_mark_paid
from core.money import quantize, quantum
from core.words import message
from network.models import Affiliate, Network, PartyStatus
from network.services import audit_log_record

from .holds import payout_hold
from .models import MethodKind, Payout, PayoutBatch, PayoutMethod
from .policy import payout_policy
from .providers import stripe_connect
from .transitions import batch_refresh, payout_mark_failed

logger = logging.getLogger(__name__)
BatchStatus = PayoutBatch.Status


class BatchRunning(Exception):
    """Another batch of this network is gathering or paying: the API answers 409."""

    def __init__(self, running: PayoutBatch | None):
        self.running = running
        super().__init__(f"Payout batch {running.pk if running else '?'} is still running; try again when it ends.")


def checkpoint(step: str, **context) -> None:
    """A step boundary of a batch run, where everything before it is committed. Tests inject crashes here."""


def payout_batch_start(*, network: Network, actor=None, trigger: str = PayoutBatch.Trigger.MANUAL,
                       period_key: str | None = None) -> PayoutBatch:
    """A new batch in `gathering`; the scheduled batch of a period that already has one returns that one."""
    if period_key is not None:
        existing = PayoutBatch.objects.for_network(network).filter(period_key=period_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            batch = PayoutBatch.objects.create(network=network, trigger=trigger, period_key=period_key,
                                               created_by=actor if actor is not None and actor.is_authenticated
                                               else None)
            audit_log_record(network=network, actor=actor, action="payout_batch.started", target=batch,
                             data={"trigger": trigger, "period": period_key})
    except IntegrityError:
        if period_key is not None:
            existing = PayoutBatch.objects.for_network(network).filter(period_key=period_key).first()
            if existing is not None:
                return existing
        running = PayoutBatch.objects.for_network(network).filter(status__in=PayoutBatch.RUNNING).first()
        raise BatchRunning(running) from None
    return batch


def _batch_network(batch_id: int) -> int | None:
    """The network of a batch whose run was queued before runs carried it (read by id, across networks)."""
    return PayoutBatch.objects.filter(pk=batch_id).values_list("network_id", flat=True).first()


def payout_batch_run(*, batch_id: int, network_id: int | None = None, manual: bool = False,
                     actor=None) -> PayoutBatch:
    """Run (or resume) a batch from the step it is in. Safe to call again at any time.

    `manual` sends no payout to a provider: every one waits for the operator's mark (the demo uses it).
    `actor`: the operator who resumed it by hand (audited); the worker's runs act for the batch's creator."""
    rows = PayoutBatch.objects.select_related("network", "created_by")
    if network_id is None:
        network_id = _batch_network(batch_id)
    batch = rows.get(network_id=network_id, pk=batch_id)
    if actor is not None:
        audit_log_record(network=batch.network, actor=actor, action="payout_batch.resumed", target=batch,
                         data={"status": batch.status})
    if batch.status == BatchStatus.GATHERING:
        _gather(batch)
        batch.refresh_from_db()
    if batch.status == BatchStatus.PAYING:
        _pay(batch, manual)
        batch.refresh_from_db()
    return batch


# --- gathering -------------------------------------------------------------------------
def _skip(skipped: list, affiliate_id: int, currency: str, amount: Decimal, reason: str) -> None:
    skipped.append({"affiliate": affiliate_id, "currency": currency, "amount": str(quantize(amount, currency)),
                    "reason": reason})


def _gather(batch: PayoutBatch) -> None:
    network = batch.network
    policy = payout_policy(network)
    skipped: list[dict] = []
    candidates = list(Account.objects.for_network(network).filter(kind=Account.Kind.AFFILIATE_APPROVED)
                      .exclude(balance=0).order_by("affiliate_id", "currency").values_list("pk", flat=True))
    for account_id in candidates:
        payout = _gather_one(batch, policy, account_id, skipped)
        if payout is not None:
            checkpoint("gather.payout", batch=batch, payout=payout)
    PayoutBatch.objects.filter(network_id=batch.network_id, pk=batch.pk, status=BatchStatus.GATHERING).update(
        status=BatchStatus.PAYING, skipped=skipped, total=batch.payouts.count(), updated_at=timezone.now())
    checkpoint("gather.done", batch=batch)


def _method_problem(method: PayoutMethod | None) -> str:
    if method is None:
        return "no_method"
    if method.kind == MethodKind.STRIPE_CONNECT and not (method.stripe_account_id and method.stripe_onboarded):
        return "method_incomplete"
    return ""


@transaction.atomic
def _gather_one(batch: PayoutBatch, policy, account_id: int, skipped: list) -> Payout | None:
    network = batch.network
    # The row lock orders us against approvals and refunds posting to this account: what we read is what we take.
    account = Account.objects.select_for_update().get(network=network, pk=account_id)
    affiliate = Affiliate.objects.get(network=network, pk=account.affiliate_id)
    currency = account.currency
    if Payout.objects.filter(network=network, batch=batch, affiliate=affiliate, currency=currency).exists():
        return None  # written by an earlier run of this batch
    due = ledger.affiliate_approved_due(network=network, affiliate=affiliate, currency=currency)
    amount = due.quantize(quantum(currency), rounding=ROUND_DOWN)
    if amount <= 0 or amount < policy.threshold(currency):
        _skip(skipped, affiliate.pk, currency, due, "negative_balance" if due < 0 else "below_threshold")
        return None
    if affiliate.status == PartyStatus.SUSPENDED:
        _skip(skipped, affiliate.pk, currency, amount, "affiliate_suspended")
        return None
    method = PayoutMethod.objects.for_network(network).filter(affiliate=affiliate, is_default=True).first()
    problem = _method_problem(method)
    if problem:
        _skip(skipped, affiliate.pk, currency, amount, problem)
        return None
    fee = policy.fee_for(amount, currency)
    net = amount - fee if policy.fee_paid_by == "affiliate" else amount
    if net <= 0:
        _skip(skipped, affiliate.pk, currency, amount, "fee_exceeds_amount")
        return None
    commission_ids = list(payable_commissions(network=network, affiliate=affiliate, currency=currency)
                          .select_for_update().values_list("pk", flat=True))
    payout = Payout.objects.create(
        network=network, batch=batch, affiliate=affiliate, currency=currency, amount=amount, fee=fee, net=net,
        fee_paid_by=policy.fee_paid_by, method=method, method_kind=method.kind, method_snapshot=method.snapshot(),
        commission_ids=commission_ids,
    )
    ledger.ledger_payout_batched(network=network, affiliate=affiliate, currency=currency, amount=amount, ref=payout,
                                 key=f"payout:{payout.pk}:batched")
    commissions_mark_paid(network=network, commission_ids=commission_ids, ref=payout, actor=batch.created_by)
    audit_log_record(network=network, actor=batch.created_by, action="payout.created", target=payout,
                     data={"batch": batch.pk, "amount": str(amount), "currency": currency,
                           "commissions": len(commission_ids)})
    PayoutBatch.objects.filter(network_id=batch.network_id, pk=batch.pk).update(total=batch.payouts.count(),
                                                                                updated_at=timezone.now())
    return payout


# --- paying ----------------------------------------------------------------------------
def _pay(batch: PayoutBatch, manual: bool = False) -> None:
    errors = []
    for payout_id in batch.payouts.filter(status=Payout.Status.PENDING).order_by("pk").values_list("pk", flat=True):
        try:
            _pay_one(batch, payout_id, manual)
        except (*stripe_connect.TRANSIENT_ERRORS, stripe_connect.StripeNotConfigured) as exc:
            # Outcome unknown: stays pending, asked again next run.
            logger.warning("Payout %s: Stripe unavailable (%s); the batch will be resumed.", payout_id, exc)
            errors.append(f"payout {payout_id}: {exc.__class__.__name__}: {exc}"[:500])
            continue
        batch_refresh(batch.pk, network_id=batch.network_id)
        checkpoint("pay.payout", batch=batch, payout_id=payout_id)
    if errors:
        PayoutBatch.objects.filter(network_id=batch.network_id, pk=batch.pk).update(
            last_error="\n".join(errors)[:4000], updated_at=timezone.now())
        return  # still `paying`: the task retries, the hourly beat resumes stale batches
    open_count = batch.payouts.filter(status__in=[Payout.Status.PENDING, Payout.Status.PROCESSING]).count()
    final = BatchStatus.PROCESSING if open_count else BatchStatus.COMPLETED
    changed = PayoutBatch.objects.filter(network_id=batch.network_id, pk=batch.pk, status=BatchStatus.PAYING).update(
        status=final, last_error="", updated_at=timezone.now(),
        completed_at=timezone.now() if final == BatchStatus.COMPLETED else None)
    batch_refresh(batch.pk, network_id=batch.network_id)
    audit_log_record(network=batch.network, actor=batch.created_by, action="payout_batch.sent", target=batch,
                     data={"status": final})
    if changed and final == BatchStatus.COMPLETED:
        audit_log_record(network=batch.network, actor=batch.created_by, action="payout_batch.completed",
                         target=batch, data={"payouts": batch.payouts.count()})


def _pay_one(batch: PayoutBatch, payout_id: int, manual: bool = False) -> None:
    network = batch.network
    payout = Payout.objects.get(network=network, pk=payout_id)
    if manual or payout.method_kind != MethodKind.STRIPE_CONNECT:
        # PayPal / bank: the operator's CSV and marks.
        Payout.objects.filter(network=network, pk=payout_id, status=Payout.Status.PENDING).update(
            status=Payout.Status.PROCESSING, sent_at=timezone.now(), updated_at=timezone.now(),
            provider_status="awaiting_operator")
        return
    if not stripe_connect.is_configured():
        if payout.attempted_at is not None:
            # An earlier attempt's outcome is unknown: only Stripe can tell, so the batch waits for the key.
            raise stripe_connect.StripeNotConfigured("STRIPE_SECRET_KEY was removed while this payout's transfer "
                                                     "was being sent: set it again and resume the batch.")
        # Refused, not sent: on hold with the reason, for the operator to mark paid, switch or fail.
        payout_hold(network=network, payout=payout_id, reason=message(stripe_connect.NOT_CONFIGURED_REASON),
                    provider_status="stripe_not_configured", actor=batch.created_by)
        return
    retry = payout.attempted_at is not None
    if not retry:
        Payout.objects.filter(network=network, pk=payout_id).update(attempted_at=timezone.now())
        checkpoint("pay.attempt_recorded", batch=batch, payout_id=payout_id)
    with transaction.atomic():
        # Held across the Stripe call: a second runner of this batch waits here, then finds the payout sent.
        payout = Payout.objects.select_for_update().get(network=network, pk=payout_id)
        if payout.status != Payout.Status.PENDING:
            return
        try:
            transfer = stripe_connect.transfer_find(payout) if retry else None
            if transfer is None:
                transfer = stripe_connect.transfer_create(payout)
        except stripe_connect.DEFINITE_ERRORS as exc:
            # Stripe's message as Stripe wrote it; only the prefix is ours (and translated on pages).
            refused = message(stripe_connect.REFUSED_REASON, {"message": str(exc.user_message or exc)[:500]})
            payout_mark_failed(network=network, payout=payout, reason=refused, source="stripe",
                               provider_status=getattr(exc, "code", "") or "error")
            return
        except stripe_connect.KEY_REUSED_ERRORS as exc:
            # Permanent for this key (Stripe answers the same for 24 h): no transfer was made under it (a retry
            # looked first), so the payout fails and its next attempt uses a new key.
            Payout.objects.filter(network=network, pk=payout_id).update(transfer_attempt=payout.transfer_attempt + 1)
            payout_mark_failed(network=network, payout=payout, source="stripe", provider_status="idempotency_error",
                               reason=message(stripe_connect.KEY_REUSED_REASON,
                                              {"key": payout.transfer_idempotency_key}))
            logger.warning("Payout %s: Stripe idempotency error (%s); failed, money returned.", payout_id, exc)
            return
        checkpoint("pay.transferred", batch=batch, payout_id=payout_id, transfer_id=transfer.id)
        payout.status, payout.provider_reference = Payout.Status.PROCESSING, transfer.id
        payout.sent_at, payout.provider_status = timezone.now(), "transfer.created"
        payout.save(update_fields=["status", "provider_reference", "sent_at", "provider_status", "updated_at"])
        audit_log_record(network=network, actor=batch.created_by, action="payout.sent", target=payout,
                         data={"transfer": transfer.id, "amount": str(payout.net), "currency": payout.currency})
