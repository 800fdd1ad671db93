"""Writes of tracking's conversion half: recording conversions (attribution, fraud, idempotency), refunds,
late attribution, webhook endpoints and the affiliate's postback URL."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import format_amount, quantize
from network.models import Advertiser, Affiliate, Network, User
from network.services import audit_log_record
from programs.models import Program

from . import fraud, netguard, outbound
from .attribution import Attribution, attribute, click_find, conversion_warnings, coupon_find
from .daily import conversions_added, conversions_kept
from .ids import click_id_time
from .items import item_lines
from .models import Conversion
from .models_outbound import Delivery, DeliveryAttempt, WebhookEndpoint
from .outbound import (
    EVENTS,
    POSTBACK_EVENTS,
    delivery_create,
    event_emit,
    postback_template_to_uri,
    validate_postback_template,
)
from .recording import amount_error, conversion_fields, money_errors, order_repeats, program_currency_error
from .signals import conversion_awaiting_click, conversion_recorded, conversion_refunded


class OrderConflict(Exception):
    """The order id is already recorded with another amount or currency."""

    def __init__(self, conversion: Conversion):
        super().__init__("order_id already recorded with a different amount or currency")
        self.conversion = conversion


@dataclass
class Recorded:
    conversion: Conversion
    created: bool
    # For the merchant (e.g. an unknown coupon on an unattributed sale): the sale is recorded all the same.
    warnings: list[dict] = field(default_factory=list)


def _check_amount(amount: Decimal, currency: str, field: str = "amount") -> None:
    error = amount_error(amount, currency)
    if error is not None:
        raise ValidationError({field: [error]})


def conversion_payload(conversion: Conversion) -> dict:
    return {
        "id": conversion.pk, "order_id": conversion.order_id, "event": conversion.event,
        "amount": str(quantize(conversion.amount, conversion.currency)), "currency": conversion.currency,
        "refunded_amount": str(quantize(conversion.refunded_amount, conversion.currency)),
        "refund_status": conversion.refund_status,
        "status": conversion.status, "attribution": conversion.attribution, "program": conversion.program_id,
        "affiliate": conversion.affiliate_id, "click_id": conversion.click_id,
        "fraud_signals": conversion.fraud_signals, "created_at": conversion.created_at,
    }


def conversion_refunded_payload(conversion: Conversion, amount: Decimal) -> dict:
    """`conversion.refunded`: the conversion after the refund, and this refund's amount."""
    return conversion_payload(conversion) | {"refund_amount": str(quantize(amount, conversion.currency))}


def _emit_created(conversion: Conversion) -> None:
    # Webhooks only: the affiliate's postback fires from the commission events, which carry {payout} and
    # {status}, so one sale is one postback in the affiliate's own tracker, not two.
    event_emit(
        network_id=conversion.network_id, event="conversion.created", data=conversion_payload(conversion),
        advertiser_id=conversion.advertiser_id,
    )


def _apply(conversion: Conversion, attribution: Attribution, details: list[dict],
           program: Program | None) -> list[str]:
    """Set the attribution's fields on the conversion; returns their names (for `save(update_fields=...)`)."""
    target = attribution.program or program
    fields = conversion_fields(
        kind=attribution.kind, details=details, pending=attribution.pending,
        policy=attribution.program.fraud_policy if attribution.program is not None else None,
        program_id=target.pk if target is not None else None, partnership_id=attribution.partnership_id,
        affiliate_id=attribution.affiliate_id, link_id=attribution.link_id, clicked_at=attribution.clicked_at,
        subs=attribution.subs, country=attribution.country,
    )
    for name, value in fields.items():
        setattr(conversion, name, value)
    conversion.program = target
    conversion.coupon = attribution.coupon
    conversion.first_click_id = attribution.first_click_id
    return [*fields, "program", "coupon", "first_click_id"]


def _same_order(existing: Conversion, amount: Decimal, currency: str) -> Recorded:
    if not order_repeats(recorded_amount=existing.amount, recorded_currency=existing.currency, amount=amount,
                         currency=currency):
        raise OrderConflict(existing)
    return Recorded(existing, False, conversion_warnings(existing))


def conversion_record(
    *,
    network: Network,
    advertiser: Advertiser,
    order_id: str,
    amount: Decimal,
    currency: str,
    event: str = Conversion.Event.SALE,
    click_id: str = "",
    coupon: str = "",
    customer_id: str = "",
    customer_email: str = "",
    customer_ip: str = "",
    program_id: int | None = None,
    items: list | None = None,
    occurred_at: datetime | None = None,
    is_test: bool = False,
) -> Recorded:
    """Record a conversion once per (advertiser, order_id); the same order again returns the first one.
    `is_test`: the Integration page's test sale, kept out of every total.

    Raises ValidationError for bad input (nothing written) and OrderConflict when the order id is already
    recorded with another amount or currency. `occurred_at` (an imported sale) is when it happened: attribution
    windows and fraud signals are judged at that time; by default, now.
    """
    currency = (currency or "").upper()
    errors = money_errors(amount=amount, currency=currency)
    if errors is not None:
        raise ValidationError(errors)
    # No look-up before the INSERT: the unique (advertiser, order_id) constraint finds repeats (the rare case).
    now = occurred_at or timezone.now()
    program = None
    if program_id is not None:
        program = Program.objects.for_network(network).filter(pk=program_id, advertiser=advertiser).first()
        if program is None:
            raise ValidationError({"program": ["Unknown program."]})
    # An unknown coupon never refuses the sale: it is kept on the conversion, and reported when nothing attributes.
    coupon = (coupon or "").strip()
    coupon_obj = coupon_find(network=network, advertiser=advertiser, code=coupon) if coupon else None
    attribution = attribute(network=network, advertiser=advertiser, now=now, click_id=click_id, coupon=coupon_obj,
                            customer_id=customer_id)
    target = attribution.program or program
    errors = None if target is None else program_currency_error(
        program_name=target.name, program_currency=target.currency, currency=currency)
    if errors is not None:
        raise ValidationError(errors)
    email_hash, ip_hash = fraud.email_hash(customer_email), fraud.ip_hash(customer_ip)
    details = fraud.conversion_evidence(
        network=network, advertiser=advertiser, attribution=attribution, amount=amount, currency=currency, now=now,
        customer_id=customer_id, customer_email_hash=email_hash, customer_ip_hash=ip_hash, click_id=click_id,
    )
    conversion = Conversion(
        network=network, advertiser=advertiser, order_id=order_id, event=event, amount=amount, currency=currency,
        click_id=click_id, coupon_code=coupon, customer_id=customer_id, customer_email_hash=email_hash,
        customer_ip_hash=ip_hash, items=items or [], created_at=now, is_test=is_test,
    )
    _apply(conversion, attribution, details, program)
    try:
        # The outermost transaction when called from a view (a savepoint otherwise): a concurrent duplicate
        # fails on the unique (advertiser, order_id) constraint here and answers with the winner's row.
        with transaction.atomic():
            conversion.save(force_insert=True)
            conversions_added(network.pk, [conversion.pk])
            if conversion.attribution_pending:
                transaction.on_commit(lambda: _queue_late_attribution(conversion.pk, conversion.network_id))
            else:
                _emit_created(conversion)
                transaction.on_commit(lambda: conversion_recorded.send(
                    sender=Conversion, conversion_id=conversion.pk, network_id=conversion.network_id))
    except IntegrityError:
        existing = Conversion.objects.for_network(network).filter(advertiser=advertiser, order_id=order_id).first()
        if existing is None:
            raise
        return _same_order(existing, amount, currency)
    return Recorded(conversion, True, conversion_warnings(conversion))


def _queue_late_attribution(conversion_id: int, network_id: int) -> None:
    # tasks_outbound queues it
    conversion_awaiting_click.send(sender=Conversion, conversion_id=conversion_id, network_id=network_id)


def _conversion_network(conversion_id: int) -> int | None:
    """The network of a conversion whose task was queued before tasks carried it (read by id, across networks)."""
    return Conversion.objects.filter(pk=conversion_id).values_list("network_id", flat=True).first()


def conversion_attribute_pending(*, conversion_id: int, network_id: int | None = None, final: bool = False) -> str:
    """Attribute a conversion recorded before its click was ingested. "waiting" when it should try again.
    Without `network_id` (a task queued before tasks passed it) the network is read by the conversion's id."""
    with transaction.atomic():
        if network_id is None:
            network_id = _conversion_network(conversion_id)
        conversion = (
            Conversion.objects.select_for_update(of=("self",))
            .select_related("network", "advertiser", "coupon__partnership__program")
            .filter(network_id=network_id, pk=conversion_id, attribution_pending=True).first()
        )
        if conversion is None:
            return "done"
        network, now = conversion.network, timezone.now()
        click = click_find(network=network, click_id=conversion.click_id)
        if click is None and not final and (now - click_id_time(conversion.click_id)).total_seconds() <= _grace():
            return "waiting"
        attribution = attribute(
            network=network, advertiser=conversion.advertiser, now=conversion.created_at,
            click_id=conversion.click_id, coupon=conversion.coupon, customer_id=conversion.customer_id,
            allow_pending=False,
        )
        explicit = conversion.program
        if attribution.program is not None and program_currency_error(
            program_name=attribution.program.name, program_currency=attribution.program.currency,
            currency=conversion.currency,
        ) is not None:
            attribution, details = Attribution(coupon=conversion.coupon), [{"code": "currency_mismatch"}]
        else:
            details = fraud.conversion_evidence(
                network=network, advertiser=conversion.advertiser, attribution=attribution, amount=conversion.amount,
                currency=conversion.currency, now=conversion.created_at, customer_id=conversion.customer_id,
                customer_email_hash=conversion.customer_email_hash, customer_ip_hash=conversion.customer_ip_hash,
                click_id=conversion.click_id, exclude_id=conversion.pk,
            )
        with conversions_kept(conversion.network_id, [conversion.pk]):
            changed = _apply(conversion, attribution, details, explicit)
            conversion.attribution_pending = False
            conversion.save(update_fields=sorted({*changed, "attribution_pending"}))
        _emit_created(conversion)
        transaction.on_commit(lambda: conversion_recorded.send(sender=Conversion, conversion_id=conversion.pk))
    return conversion.attribution


def conversions_attribute_clicks(*, network_id: int, click_ids: list[str]) -> int:
    """For the click ingester: attribute conversions that arrived before these clicks. Returns how many."""
    pending = list(Conversion.objects.for_network(network_id).filter(
        attribution_pending=True, click_id__in=click_ids).values_list("pk", flat=True))
    for conversion_id in pending:
        conversion_attribute_pending(conversion_id=conversion_id)
    return len(pending)


def conversions_attribute_overdue(*, limit: int = 1000) -> int:
    """Settle conversions whose click never came within the grace period."""
    cutoff = timezone.now() - timedelta(seconds=_grace())
    overdue = list(Conversion.objects.filter(attribution_pending=True, created_at__lte=cutoff)
                   .order_by("id").values_list("pk", "network_id")[:limit])
    for conversion_id, network_id in overdue:
        conversion_attribute_pending(conversion_id=conversion_id, network_id=network_id, final=True)
    return len(overdue)


def _grace() -> int:
    from django.conf import settings

    return settings.CLICK_INGEST_GRACE_SECONDS


def _refund_items(conversion: Conversion, items: list[dict]) -> tuple[Decimal, list[dict]]:
    """A refund by item: each {sku, amount} checked against the conversion's lines (a sku it has, an amount within
    what those lines total); the refund's amount is their sum. Commissions check what remains of each line."""
    lines = item_lines(conversion.items) or []
    if not lines:
        raise ValidationError({"items": [_("This conversion has no items to refund by: refund an amount instead.")]})
    errors, refunded = [], []
    for index, item in enumerate(items):
        sku, amount = str(item["sku"]).strip(), Decimal(item["amount"])
        total = sum((line["amount"] for line in lines if line["sku"].casefold() == sku.casefold()), Decimal(0))
        error = amount_error(amount, conversion.currency)
        if not any(line["sku"].casefold() == sku.casefold() for line in lines):
            error = _("The conversion has no item with this sku.")
        elif error is None and amount <= 0:
            error = _("Must be more than zero.")
        elif error is None and amount > total:
            error = _("Larger than the item's amount (%(amount)s).") % {
                "amount": format_amount(total, conversion.currency)}
        if error is not None:
            errors.append(_("Item %(number)s (%(sku)s): %(error)s") % {"number": index + 1, "sku": sku,
                                                                         "error": error})
        refunded.append({"sku": sku, "amount": amount})
    if errors:
        raise ValidationError({"items": errors})
    return sum((item["amount"] for item in refunded), Decimal(0)), refunded


def conversion_refund(*, network: Network, conversion: Conversion, amount: Decimal | None = None,
                      actor: User | None = None, items: list[dict] | None = None) -> tuple[Conversion, Decimal]:
    """Refund part or all (amount None) of what remains, or the given `items` ({sku, amount}: the amount of those
    lines refunded); commissions reverse in the same transaction (by line for items)."""
    with transaction.atomic():
        conversion = Conversion.objects.for_network(network).select_for_update().get(pk=conversion.pk)
        remaining = conversion.amount - conversion.refunded_amount
        if remaining <= 0:
            raise ValidationError({"detail": _("This conversion is already fully refunded.")})
        if items:
            if amount is not None:
                raise ValidationError({"amount": [_("Give either an amount or items, not both.")]})
            amount, items = _refund_items(conversion, items)
            if amount > remaining:
                raise ValidationError({"items": [
                    _("They total more than what remains to refund (%(amount)s).") % {
                        "amount": format_amount(remaining, conversion.currency)}]})
        elif amount is None:
            amount = remaining
        else:
            _check_amount(amount, conversion.currency)
            if amount == 0:
                raise ValidationError({"amount": [_("Must be more than zero.")]})
            if amount > remaining:
                raise ValidationError({"amount": [
                    _("Larger than what remains to refund (%(amount)s).") % {
                        "amount": format_amount(remaining, conversion.currency)}]})
        with conversions_kept(network.pk, [conversion.pk]):
            conversion.refunded_amount += amount
            conversion.save(update_fields=["refunded_amount"])
        audit_log_record(network=network, actor=actor, action="conversion.refunded", target=conversion,
                         data={"amount": str(quantize(amount, conversion.currency)), "currency": conversion.currency,
                               "refund_status": conversion.refund_status,
                               **({"items": [{"sku": i["sku"], "amount": str(i["amount"])} for i in items]}
                                  if items else {})})
        conversion_refunded.send(sender=Conversion, conversion=conversion, amount=amount, actor=actor,
                                 items=items or None)
        event_emit(
            network_id=network.pk, event="conversion.refunded", data=conversion_refunded_payload(conversion, amount),
            advertiser_id=conversion.advertiser_id,
        )
    return conversion, amount


# --- outbound settings ---------------------------------------------------------------------------
def _check_events(events: list[str]) -> list[str]:
    unknown = [event for event in events if event != "*" and event not in EVENTS]
    if unknown or not events:
        raise ValidationError({"events": [
            _("Unknown events: %(unknown)s. Known: *, %(known)s.") % {"unknown": ", ".join(unknown),
                                                                      "known": ", ".join(EVENTS)}
            if unknown else _("Subscribe to at least one event (or every event).")]})
    return sorted(set(events))


URL_MAX_LENGTH = 1000


def _too_long() -> str:
    return _("At most %(n)s characters once encoded.") % {"n": URL_MAX_LENGTH}


def _check_target(url: str, field: str = "url") -> str:
    """The URL as it is stored and sent (an IRI converted to a URI), or ValidationError."""
    try:
        url = netguard.to_uri(url)
        netguard.check_url(url)
    except netguard.UnsafeURL as exc:
        raise ValidationError({field: [str(exc)]}) from exc
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError({field: [_too_long()]})
    return url


def _check_webhook_url(url: str) -> str:
    """A webhook endpoint's URL: https where `WEBHOOK_HTTPS_ONLY` says so (everywhere but the embedded default under
    DEBUG, where a receiver on localhost is tried over http), then the outbound guard's checks."""
    if settings.WEBHOOK_HTTPS_ONLY and isinstance(url, str) and urlsplit(url.strip()).scheme.lower() != "https":
        raise ValidationError({"url": [_("Use an https:// URL: webhooks carry order data and their signature, so "
                                         "they are only sent encrypted.")]})
    return _check_target(url)


@transaction.atomic
def webhook_endpoint_create(*, network: Network, advertiser: Advertiser | None, url: str, events: list[str],
                            description: str = "", actor: User | None = None) -> WebhookEndpoint:
    url = _check_webhook_url(url)
    endpoint = WebhookEndpoint.objects.create(network=network, advertiser=advertiser, url=url,
                                              events=_check_events(events), description=description)
    audit_log_record(network=network, actor=actor, action="webhook.created", target=endpoint, data={"url": url})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, network: Network, endpoint: WebhookEndpoint, actor: User | None = None,
                            **changes) -> WebhookEndpoint:
    if "url" in changes:
        changes["url"] = _check_webhook_url(changes["url"])
    if "events" in changes:
        changes["events"] = _check_events(changes["events"])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(changes))
    audit_log_record(network=network, actor=actor, action="webhook.updated", target=endpoint,
                     data={name: value for name, value in changes.items() if name != "secret"})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, network: Network, endpoint: WebhookEndpoint, actor: User | None = None) -> None:
    audit_log_record(network=network, actor=actor, action="webhook.deleted", target=endpoint)
    endpoint.delete()


@transaction.atomic
def affiliate_postback_set(*, network: Network, affiliate: Affiliate, template: str,
                           events: list[str] | None = None, actor: User | None = None) -> Affiliate:
    """Save the postback URL template (an IRI converted to a URI, only known macros) and, when given, the events
    it is fired for (an empty list: the default, the conversion events)."""
    if template:
        try:
            template = postback_template_to_uri(template)
            validate_postback_template(template)
        except netguard.UnsafeURL as exc:
            raise ValidationError({"postback_url": [str(exc)]}) from exc
        if len(template) > URL_MAX_LENGTH:
            raise ValidationError({"postback_url": [_too_long()]})
    fields = ["postback_url"]
    affiliate.postback_url = template
    if events is not None:
        unknown = sorted(set(events) - set(POSTBACK_EVENTS))
        if unknown:
            raise ValidationError({"events": [_("Unknown events: %(unknown)s. Known: %(known)s.") % {
                "unknown": ", ".join(unknown), "known": ", ".join(POSTBACK_EVENTS)}]})
        affiliate.postback_events = [event for event in POSTBACK_EVENTS if event in events]
        fields.append("postback_events")
    affiliate.save(update_fields=fields)
    audit_log_record(network=network, actor=actor, action="affiliate.postback_set", target=affiliate)
    return affiliate


SAMPLE_EVENT = {"order_id": "TEST-ORDER", "amount": "10.00", "click_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                "status": "test", "payout": "1.00", "program_id": 0}


def webhook_test_payload(currency: str) -> dict:
    return SAMPLE_EVENT | {"currency": currency}


def webhook_endpoint_send_test(*, network: Network, endpoint: WebhookEndpoint) -> Delivery:
    """A signed `webhook.test` event to this endpoint only, so the owner can check their receiver. A disabled
    endpoint gets nothing, a test neither (ValidationError: enable it first)."""
    if not endpoint.is_active:
        raise ValidationError({"detail": [_("This webhook is disabled: enable it to send a test event.")]})
    with transaction.atomic():
        return delivery_create(network_id=network.pk, kind=Delivery.Kind.WEBHOOK, event="webhook.test",
                               endpoint=endpoint, data=webhook_test_payload(network.default_currency))


def affiliate_postback_send_test(*, network: Network, affiliate: Affiliate) -> DeliveryAttempt:
    """Call the affiliate's postback URL once, now (one attempt, never retried: the person waits for its
    answer); the delivery and its attempt are logged."""
    if not affiliate.postback_url:
        raise ValidationError({"postback_url": [_("Set a postback URL first.")]})
    return outbound.delivery_test_fire(network_id=network.pk, event="webhook.test", affiliate=affiliate,
                                       data=webhook_test_payload(network.default_currency))
