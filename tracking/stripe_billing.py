"""Stripe billing events as conversions: integrations (create, rotate, disable, delete), signature checks, and
what each event does (checkout links a customer to a click or is the sale, a paid invoice is a sale or a renewal,
a refunded charge refunds). Every sale goes through `conversion_record`, every refund through `conversion_refund`."""

from decimal import Decimal

import stripe
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.money import is_currency, minor_units
from core.words import Message, english, entry, message
from network.models import Advertiser, Network, User
from network.services import audit_log_record
from programs.models import Program

from . import services
from .ids import is_click_id
from .models import Conversion
from .models_stripe import StripeCustomer, StripeEvent, StripeIntegration

# Stripe's own default: an event signed more than 5 minutes ago is refused (replayed captures).
SIGNATURE_TOLERANCE_SECONDS = 300
Result = StripeEvent.Result


class BadEvent(Exception):
    """The payload is not JSON, or its signature (or timestamp) does not verify."""


# --- integrations ----------------------------------------------------------------------------------------------
def _check_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if not secret.startswith("whsec_") or len(secret) < 12 or len(secret) > 200 or not secret.isascii():
        raise ValidationError({"signing_secret": [
            _("The endpoint's signing secret from the Stripe dashboard: it starts with whsec_.")]})
    return secret


@transaction.atomic
def stripe_integration_create(*, network: Network, advertiser: Advertiser, program_id: int, signing_secret: str = "",
                              actor: User | None = None) -> StripeIntegration:
    """Without a secret the URL refuses every event (400) until `stripe_integration_rotate_secret` sets one."""
    program = Program.objects.for_network(network).filter(pk=program_id, advertiser=advertiser).first()
    if program is None:
        raise ValidationError({"program": [_("Unknown program.")]})
    integration = StripeIntegration.objects.create(network=network, advertiser=advertiser, program=program,
                                                   signing_secret=_check_secret(signing_secret) if signing_secret
                                                   else "")
    audit_log_record(network=network, actor=actor, action="stripe_integration.created", target=integration,
                     data={"program": program.pk})
    return integration


@transaction.atomic
def stripe_integration_rotate_secret(*, network: Network, integration: StripeIntegration, signing_secret: str,
                                     actor: User | None = None) -> StripeIntegration:
    """The merchant rolled the secret in Stripe: events signed with the old one are refused from now on."""
    integration.signing_secret = _check_secret(signing_secret)
    integration.secret_rotated_at = timezone.now()
    integration.save(update_fields=["signing_secret", "secret_rotated_at"])
    audit_log_record(network=network, actor=actor, action="stripe_integration.secret_rotated", target=integration)
    return integration


@transaction.atomic
def stripe_integration_set_active(*, network: Network, integration: StripeIntegration, active: bool,
                                  actor: User | None = None) -> StripeIntegration:
    """A disabled integration answers 404 to Stripe and records nothing."""
    integration.is_active = active
    integration.save(update_fields=["is_active"])
    audit_log_record(network=network, actor=actor, target=integration,
                     action="stripe_integration.enabled" if active else "stripe_integration.disabled")
    return integration


@transaction.atomic
def stripe_integration_delete(*, network: Network, integration: StripeIntegration, actor: User | None = None) -> None:
    audit_log_record(network=network, actor=actor, action="stripe_integration.deleted", target=integration,
                     data={"program": integration.program_id})
    integration.delete()


def dangerously_stripe_integration_for_token(token: str) -> StripeIntegration | None:
    """Unscoped on purpose: the token in the webhook URL names the integration (and so its network)."""
    if not token or len(token) > 64:
        return None
    return (StripeIntegration.objects.select_related("network", "advertiser")
            .filter(token=token, is_active=True).first())


# --- events ----------------------------------------------------------------------------------------------------
def stripe_event_verify(*, integration: StripeIntegration, payload: bytes, signature: str) -> dict:
    """The event as a dict, verified with the integration's signing secret (Stripe's SDK, 5-minute tolerance)."""
    if not integration.signing_secret:
        raise BadEvent("No signing secret yet.")
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", integration.signing_secret,
                                               tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise BadEvent(str(exc)) from exc
    event = event.to_dict()
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str) or not isinstance(
            (event.get("data") or {}).get("object"), dict):
        raise BadEvent("Not a Stripe event: id, type and data.object are required.")
    return event


def stripe_event_handle(*, integration: StripeIntegration, event: dict) -> tuple[StripeEvent, bool]:
    """Apply a verified event once. Returns its log row and whether it was new; an event seen before (and not
    failed) is not applied again. A failed one is tried again when Stripe (or the merchant) resends it."""
    network = integration.network
    obj, event_id = event["data"]["object"], event["id"][:255]
    with transaction.atomic():
        try:
            with transaction.atomic():
                row, created = StripeEvent.objects.for_network(network).select_for_update().get_or_create(
                    network=network, integration=integration, event_id=event_id,
                    defaults={"type": event["type"][:100], "result": Result.IGNORED})
        except IntegrityError:  # the same event arriving twice at once: the other delivery applied it
            return StripeEvent.objects.for_network(network).get(integration=integration, event_id=event_id), False
        if not created and row.result != Result.FAILED:
            return row, False
        row.type, row.livemode = event["type"][:100], bool(event.get("livemode"))
        row.object_id = _text(obj.get("id"), 255)
        row.conversion, row.amount, row.currency = None, None, ""
        _note(row, [])
        try:
            with transaction.atomic():
                _apply(integration, event["type"], obj, row)
        except ValidationError as exc:
            row.result = Result.FAILED
            _note(row, _entries(exc))
        except services.OrderConflict as exc:
            row.result, row.conversion = Result.FAILED, exc.conversion
            _note(row, message(gettext_noop(
                "This order id is already recorded with a different amount or currency.")))
        row.save_every_field()
    return row, True


def _apply(integration: StripeIntegration, event_type: str, obj: dict, row: StripeEvent) -> None:
    handler = _HANDLERS.get(event_type)
    if handler is None:
        row.result = Result.IGNORED
        return
    handler(integration, obj, row)


def _checkout_completed(integration: StripeIntegration, session: dict, row: StripeEvent) -> None:
    """Links the customer to the click; a one-time payment (mode=payment) is itself the sale."""
    click_id = _click_id(session.get("client_reference_id"), _metadata(session).get("click_id"))
    customer = _text(session.get("customer"), 128)
    row.customer_id = customer
    if customer:
        _customer_link(integration, customer, click_id)
    if session.get("mode") != "payment":
        row.result = Result.LINKED if customer else Result.IGNORED
        if not customer:
            _note(row, message(gettext_noop("No customer on the session.")))
        first_invoice = _text(session.get("invoice"), 128)
        if click_id and first_invoice:
            row.conversion = _attribute_recorded(integration, order_id=first_invoice, click_id=click_id)
        return
    if session.get("payment_status") not in (None, "paid", "no_payment_required"):
        row.result = Result.IGNORED
        _note(row, message(gettext_noop("Not paid yet (the async payment's success event records it).")))
        return
    _sale(integration, row, order_id=_text(session.get("payment_intent"), 128) or row.object_id,
          minor=session.get("amount_total"), currency=session.get("currency"), click_id=click_id, customer=customer,
          email=_text((session.get("customer_details") or {}).get("email"), 254), result=Result.CONVERSION)
    row.payment_intent = _text(session.get("payment_intent"), 255)


def _invoice_paid(integration: StripeIntegration, invoice: dict, row: StripeEvent) -> None:
    """One sale per paid invoice: the first of a customer by their click, renewals by the customer id."""
    customer = _text(invoice.get("customer"), 128)
    row.customer_id = customer
    row.payment_intent = _text(invoice.get("payment_intent"), 255)
    row.charge = _text(invoice.get("charge"), 255)
    renewal = invoice.get("billing_reason") == "subscription_cycle"
    click_id = ""
    if not renewal:
        link = StripeCustomer.objects.for_network(integration.network_id).filter(
            integration=integration, customer_id=customer).first() if customer else None
        subscription = (invoice.get("subscription_details")
                        or ((invoice.get("parent") or {}).get("subscription_details")) or {})
        click_id = (link.click_id if link and link.click_id else
                    _click_id(_metadata(invoice).get("click_id"), _metadata(subscription).get("click_id")))
    _sale(integration, row, order_id=row.object_id, minor=invoice.get("amount_paid"), currency=invoice.get("currency"),
          click_id=click_id, customer=customer, email=_text(invoice.get("customer_email"), 254),
          result=Result.RENEWAL if renewal else Result.CONVERSION)


def _charge_refunded(integration: StripeIntegration, charge: dict, row: StripeEvent) -> None:
    """Refunds what Stripe says is refunded in all and the conversion does not have yet: partial refunds add up,
    a replay refunds nothing more."""
    row.customer_id = _text(charge.get("customer"), 128)
    row.payment_intent = _text(charge.get("payment_intent"), 255)
    row.charge = row.object_id
    conversion = _charge_conversion(integration, charge, row)
    if conversion is None:
        row.result = Result.IGNORED
        _note(row, message(gettext_noop("No conversion of this integration for this charge.")))
        return
    currency = _currency(charge.get("currency"))
    if currency != conversion.currency:
        raise ValidationError({"currency": [message(gettext_noop(
            "The charge is in %(currency)s, the conversion in %(conversion_currency)s."),
            {"currency": currency, "conversion_currency": conversion.currency})]})
    refunded = _amount(charge.get("amount_refunded"), currency, field="amount_refunded")
    conversion = Conversion.objects.for_network(integration.network_id).select_for_update().get(pk=conversion.pk)
    row.conversion, row.currency = conversion, currency
    amount = min(refunded - conversion.refunded_amount, conversion.amount - conversion.refunded_amount)
    if amount <= 0:
        row.result, row.amount = Result.IGNORED, Decimal(0)
        _note(row, message(gettext_noop("Nothing more to refund.")))
        return
    services.conversion_refund(network=integration.network, conversion=conversion, amount=amount)
    row.result, row.amount = Result.REFUND, amount


def _subscription_deleted(integration: StripeIntegration, subscription: dict, row: StripeEvent) -> None:
    row.customer_id = _text(subscription.get("customer"), 128)
    row.result = Result.RECORDED


_HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "charge.refunded": _charge_refunded,
    "customer.subscription.deleted": _subscription_deleted,
}


# --- helpers ---------------------------------------------------------------------------------------------------
def _sale(integration: StripeIntegration, row: StripeEvent, *, order_id: str, minor, currency, click_id: str,
          customer: str, email: str, result: str) -> None:
    currency = _currency(currency)
    amount = _amount(minor, currency, field="amount")
    row.amount, row.currency = amount, currency
    if amount <= 0:
        row.result = Result.IGNORED
        _note(row, message(gettext_noop("Nothing paid.")))
        return
    if not order_id:
        raise ValidationError({"id": [message(gettext_noop("The event's object has no id."))]})
    recorded = services.conversion_record(
        network=integration.network, advertiser=integration.advertiser, program_id=integration.program_id,
        order_id=order_id, amount=amount, currency=currency, click_id=click_id, customer_id=customer,
        customer_email=email,
    )
    row.conversion, row.result = recorded.conversion, result


def _attribute_recorded(integration: StripeIntegration, *, order_id: str, click_id: str) -> Conversion | None:
    """Stripe does not order its events: the subscription's first invoice may have been recorded unattributed
    before its checkout session named the click. Such a conversion takes the click now, through the same late
    attribution a conversion waiting for its click goes through (tracking.services.conversion_attribute_pending)."""
    unattributed = Conversion.objects.for_network(integration.network_id).filter(
        advertiser=integration.advertiser_id, order_id=order_id, attribution=Conversion.Attribution.NONE,
        attribution_pending=False, click_id="")
    conversion = unattributed.first()
    if conversion is None or not unattributed.filter(pk=conversion.pk).update(click_id=click_id,
                                                                              attribution_pending=True):
        return None
    services.conversion_attribute_pending(conversion_id=conversion.pk)
    return conversion


def _customer_link(integration: StripeIntegration, customer: str, click_id: str) -> None:
    link, created = StripeCustomer.objects.for_network(integration.network_id).get_or_create(
        network_id=integration.network_id, integration=integration, customer_id=customer,
        defaults={"click_id": click_id})
    if not created and click_id and link.click_id != click_id:  # a later checkout through another click: last wins
        link.click_id = click_id
        link.save(update_fields=["click_id"])


def _charge_conversion(integration: StripeIntegration, charge: dict, row: StripeEvent) -> Conversion | None:
    conversions = Conversion.objects.for_network(integration.network_id).filter(advertiser=integration.advertiser_id)
    order_ids = [ref for ref in (_text(charge.get("invoice"), 128), row.payment_intent) if ref]
    found = conversions.filter(order_id__in=order_ids).first() if order_ids else None
    if found is not None:
        return found
    # Newer API versions drop charge.invoice: the invoice's own event said which payment intent or charge paid it.
    refs = {"payment_intent": row.payment_intent} if row.payment_intent else {"charge": row.charge}
    paid = (StripeEvent.objects.for_network(integration.network_id)
            .filter(integration=integration, conversion__isnull=False, **refs)
            .exclude(result=Result.REFUND).order_by("id").first())
    return conversions.filter(pk=paid.conversion_id).first() if paid is not None else None


def _click_id(*candidates) -> str:
    """The first well-formed click id: client_reference_id may carry the merchant's own reference instead."""
    for candidate in candidates:
        if isinstance(candidate, str) and is_click_id(candidate.strip()):
            return candidate.strip()
    return ""


def _metadata(obj: dict) -> dict:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _text(value, limit: int) -> str:
    """A string field, or the id of an expanded object (`customer`, `invoice`, ... may come expanded)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value[:limit] if isinstance(value, str) else ""


def _currency(value) -> str:
    currency = value.upper() if isinstance(value, str) else ""
    if not is_currency(currency):
        raise ValidationError({"currency": [message(gettext_noop("Unknown currency %(currency)s."),
                                                    {"currency": repr(value)[:40]})]})
    return currency


def _amount(minor, currency: str, *, field: str) -> Decimal:
    """Stripe's integer minor units (cents; yen for zero-decimal currencies) as a Decimal amount."""
    if isinstance(minor, bool) or not isinstance(minor, int) or minor < 0:
        raise ValidationError({field: [message(gettext_noop("Expected a whole number of minor units."))]})
    return Decimal(minor).scaleb(-minor_units(currency))


def _note(row: StripeEvent, notes: Message | list[dict]) -> None:
    """The row's error: its messages kept as msgids for pages (core.words), and in English for the API."""
    row.error_words = [entry(notes)] if isinstance(notes, str) else notes
    row.error = english(row.error_words)[:500]


def _made(error: ValidationError) -> str:
    # A core.words.Message keeps its msgid; a message with ValidationError params is made here.
    return error.message % error.params if error.params else error.message


def _entries(exc: ValidationError) -> list[dict]:
    """Each message of a refusal, with its field (the services' own, and ours)."""
    if hasattr(exc, "error_dict"):
        return [entry(_made(error), name) for name, errors in exc.error_dict.items() for error in errors]
    return [entry(_made(error)) for error in exc.error_list]
