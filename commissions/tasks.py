"""Celery tasks of commissions: compute per conversion, e-mails, hold-period approvals, CPC accrual."""

import logging
from decimal import Decimal

from django.core.mail import get_connection
from django.db.models import ObjectDoesNotExist
from django.dispatch import receiver

from core.tasks import BATCH, LONG, QUICK, RETRY_DATABASE, RETRY_MAIL, SWEEP, task
from network.models import Network

from . import cpc, selectors, services, trueup
from .emails import commission_email_messages
from .models import Commission
from .signals import commission_emails_due

logger = logging.getLogger(__name__)


@task(**RETRY_DATABASE, **QUICK)
def commission_compute_task(conversion_id: int, network_id: int | None = None) -> list[int]:
    """`network_id` routes the reads to the conversion's network; a message queued without it reads as before."""
    return [c.pk for c in services.commissions_for_conversion(conversion_id=conversion_id, network_id=network_id)]


@task(**RETRY_DATABASE, **BATCH)
def commissions_compute_batch_task(conversion_ids: list[int], network_ids: list[int] | None = None) -> int:
    """The batched kicks of the postback (`receivers.ComputeKicks`): compute each conversion (idempotent, so a
    retry of the whole batch recomputes nothing already written). `network_ids[i]` is the network of
    `conversion_ids[i]`; a message queued without them reads the networks by id, as before."""
    return services.commissions_for_conversions(conversion_ids=conversion_ids, network_ids=network_ids)


@task(**RETRY_DATABASE, **SWEEP)
def commissions_catch_up_task(days: int = 1, settle_seconds: int = 120) -> int:
    """Compute attributed conversions left without commissions (a lost kick, a broker outage, a computation the
    database refused after the conversion's commit)."""
    ids, networks = selectors.conversions_without_commissions(days=days, settle_seconds=settle_seconds)
    return sum(services.commissions_for_conversions(conversion_ids=ids[start:start + 500],
                                                    network_ids=networks[start:start + 500])
               for start in range(0, len(ids), 500))


# The embedded default computes each conversion's commissions in its request, right after its commit: a
# conversion this old without them had its computation fail (a request computing one now is harmless: the
# computation is idempotent).
EMBEDDED_SETTLE_SECONDS = 5


def commissions_catch_up_embedded() -> int:
    """The catch-up as the embedded default's web process runs it (`core.embedded`, registered in apps.py)."""
    return commissions_catch_up_task.run(days=1, settle_seconds=EMBEDDED_SETTLE_SECONDS)


def _commission_networks(commission_ids: list[int]) -> set[int]:
    """The networks of commissions whose e-mails were queued before items carried them (read by id)."""
    return set(Commission.objects.filter(pk__in=commission_ids).values_list("network_id", flat=True).distinct())


@task(**RETRY_MAIL, **BATCH)
def commission_emails_task(items: list[list], network_id: int | None = None) -> int:
    """E-mails of one transition of many commissions ([commission id, event, amount] each), in `network_id` (None:
    a message queued before the task named it): one read of the commissions, one mail connection, one e-mail per
    affiliate (a digest of its commissions, or the single commission's e-mail). Returns the e-mails sent. A retry
    after a failure may send the batch's e-mails again (at-least-once, as a task each would)."""
    ids = [commission_id for commission_id, _event, _amount, *_old in items]
    networks = [network_id] if network_id is not None else sorted(_commission_networks(ids))
    by_id = selectors.commissions_to_email(network_ids=networks, ids=ids)
    messages = commission_email_messages([
        (by_id[commission_id], event, Decimal(amount) if amount else None)
        for commission_id, event, amount, *_old in items if commission_id in by_id
    ])
    return get_connection().send_messages(messages) or 0 if messages else 0


@receiver(commission_emails_due, dispatch_uid="commissions.tasks.commission_emails")
def commission_emails_queue(sender, items: list[list], network_id: int | None = None, **kwargs) -> None:
    """The services' e-mails of a committed transition (`notifications.commissions_notify`), as one task per
    network."""
    commission_emails_task.delay(items, network_id)


@task(**RETRY_MAIL, **BATCH)
def commission_email_task(commission_id: int, event: str, amount: str | None = None) -> int:
    """One commission's e-mail (tasks queued before e-mails went out by batch)."""
    return commission_emails_task([[commission_id, event, amount, None]])


@task(**RETRY_DATABASE, **SWEEP)
def commissions_approve_due_task() -> int:
    """Approve pending commissions past their hold period (the program's hold_days)."""
    approved = 0
    networks: dict[int, Network] = {}
    for pk, network_id in services.commissions_due():
        if network_id not in networks:
            networks[network_id] = Network.objects.get(pk=network_id)
        try:
            services.commission_approve(network=networks[network_id], commission=pk, operator=False)
            approved += 1
        except (services.TransitionError, services.TransitionForbidden, ObjectDoesNotExist):
            continue  # decided meanwhile (approved with its parent, rejected, refunded)
    return approved


@task(**RETRY_DATABASE, **LONG)
def cpc_accrue_task() -> int:
    """Pay unique, non-bot clicks of finished hours for programs with click rules."""
    made = 0
    for rollup_id, network_id in cpc.cpc_due_rollups():
        made += cpc.cpc_accrue_rollup(rollup_id=rollup_id, network_id=network_id) is not None
    return made


@task(**RETRY_DATABASE, **LONG)
def tier_trueups_task() -> int:
    """Hourly: true up the tier periods that closed (network time zone) and are not trued up yet (idempotent)."""
    return trueup.tier_trueups_run()
