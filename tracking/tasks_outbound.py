"""Outbound delivery tasks (webhooks, postbacks) and the late attribution of conversions."""

from django.conf import settings
from django.db import OperationalError
from django.dispatch import receiver

from core.tasks import BATCH, QUICK, task

from . import outbound, services
from .models_outbound import Delivery
from .signals import conversion_awaiting_click, deliveries_created


def _retry(task, countdown: int, *args):
    if task.request.is_eager:
        # Eager mode (embedded default, tests) has no broker to schedule on: try again in-process at once.
        return task.apply(args=args, retries=task.request.retries + 1).result
    raise task.retry(countdown=countdown)


def _delivery_network(delivery_id: int) -> int | None:
    """The network of a delivery whose send was queued before sends carried it (read by id, across networks)."""
    return Delivery.objects.filter(pk=delivery_id).values_list("network_id", flat=True).first()


@task(bind=True, autoretry_for=(OperationalError,), max_retries=None, **QUICK)
def delivery_send(self, delivery_id: int, network_id: int | None = None) -> str:
    """One attempt per run; a failure retries with exponential backoff until OUTBOUND_MAX_ATTEMPTS. `network_id`
    routes the read to the delivery's network; a message queued without it reads by id alone, as before."""
    if network_id is None:
        network_id = _delivery_network(delivery_id)
    delivery = Delivery.objects.select_related("endpoint").filter(network_id=network_id, pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return "skipped"
    final = self.request.retries + 1 >= settings.OUTBOUND_MAX_ATTEMPTS
    attempt = outbound.delivery_attempt(delivery, final=final)
    if attempt.retry_in_seconds is not None:
        return _retry(self, attempt.retry_in_seconds, delivery_id, delivery.network_id)
    return delivery.status


@task(bind=True, autoretry_for=(OperationalError,), max_retries=None, **QUICK)
def conversion_attribute_late(self, conversion_id: int, network_id: int | None = None) -> str:
    """Attribute a conversion whose click was not ingested yet; gives up after CLICK_INGEST_GRACE_SECONDS.

    Eager mode (the embedded default) cannot wait: the conversion stays pending until the ingester's hook
    (`conversions_attribute_clicks`) or the overdue sweep settles it.
    """
    outcome = services.conversion_attribute_pending(conversion_id=conversion_id, network_id=network_id,
                                                    final=self.request.retries >= 8)
    if outcome == "waiting" and not self.request.is_eager:
        raise self.retry(countdown=min(15 * 2 ** self.request.retries, 300))
    return outcome


@task(autoretry_for=(OperationalError,), max_retries=3, **BATCH)
def conversions_attribute_overdue() -> int:
    """Beat: settle conversions still waiting for their click after the grace period (coupon, customer, none)."""
    return services.conversions_attribute_overdue()


@receiver(deliveries_created, dispatch_uid="tracking.tasks_outbound.delivery_send")
def deliveries_queue(sender, delivery_ids: list[int], network_ids: list[int] | None = None, **kwargs) -> None:
    """The deliveries `outbound` wrote, after their commit: one send task each, with its network."""
    for delivery_id, network_id in zip(delivery_ids, network_ids or [None] * len(delivery_ids), strict=True):
        delivery_send.delay(delivery_id, network_id)


@receiver(conversion_awaiting_click, dispatch_uid="tracking.tasks_outbound.conversion_attribute_late")
def conversion_attribution_queue(sender, conversion_id: int, network_id: int | None = None, **kwargs) -> None:
    """A conversion `services` recorded before its click was ingested, after its commit: attribute it later."""
    conversion_attribute_late.delay(conversion_id, network_id)
