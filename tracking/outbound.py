"""Outbound notifications: advertiser webhooks and affiliate postbacks.

`event_emit` is the one entry point later apps call (commissions, payouts). It writes one Delivery per
target inside the caller's transaction and queues the sends on commit; `delivery_attempt` makes one HTTP
attempt (the Celery task retries it with exponential backoff). Webhooks are signed twice: our own
`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, and the Standard Webhooks headers
(`webhook-id`, `webhook-timestamp`, `webhook-signature`), so receivers may verify with its libraries.
The event types, their descriptions and examples: `events.py`.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Affiliate

from . import netguard
from .models_outbound import Delivery, DeliveryAttempt, WebhookEndpoint
from .signals import deliveries_created

POSTBACK_MACROS = (
    "click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "order_id", "amount", "payout", "currency", "status",
    "program_id", "event",
)
EVENTS = (
    "conversion.created", "conversion.refunded", "commission.created", "commission.approved", "commission.rejected",
    "commission.reversed", "commission.adjusted", "payout.paid", "payout.failed", "affiliate.created",
    "affiliate.approved", "partnership.approved", "partnership.rejected", "program.cap_reached", "webhook.test",
)
# What an affiliate's postback may be fired for, and what it is fired for until the affiliate chooses (an empty
# `Affiliate.postback_events`): the events of its conversions' commissions, whose macros are filled in.
DEFAULT_POSTBACK_EVENTS = (
    "commission.created", "commission.approved", "commission.rejected", "commission.on_hold", "commission.released",
    "commission.reversed", "commission.partially_reversed", "commission.paid",
)
POSTBACK_EVENTS = (*DEFAULT_POSTBACK_EVENTS, "payout.paid", "payout.failed")
_MACRO_RE = re.compile(r"\{([A-Za-z0-9_]+)\}")
SIGNATURE_HEADER = "X-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"
# A test fire is answered while the person waits: it never waits longer than this for the receiver.
TEST_FIRE_TIMEOUT_SECONDS = 5.0


# --- signatures ----------------------------------------------------------------------------------
def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """What a receiver runs: the HMAC matches and `t` is at most `tolerance` seconds old (or ahead)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        t = int(fields["t"])
    except (ValueError, KeyError, AttributeError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks signature: the secret is `whsec_` + the key in base64 (ours are:
    hex digits and base64 of random bytes both decode); a secret that is not base64 signs with its own bytes."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def standard_webhooks_headers(secret: str, message_id: str, body: bytes, timestamp: int) -> dict:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<t>.<body>">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(standard_webhooks_key(secret), signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{digest}"}


# --- postback templates --------------------------------------------------------------------------
def expand_postback(template: str, macros: dict) -> str:
    """Fill `{macro}`s with URL-encoded values; unknown or missing macros become empty."""

    def value(match):
        name = match.group(1)
        if name not in POSTBACK_MACROS or macros.get(name) is None:
            return ""
        return quote(str(macros[name]), safe="")

    return _MACRO_RE.sub(value, template)


def postback_fires(chosen: list | None, event: str) -> bool:
    """Whether an affiliate's postback is fired for `event`, given its chosen events (empty: the default)."""
    return event in (chosen or DEFAULT_POSTBACK_EVENTS)


def postback_template_to_uri(template: str) -> str:
    """The template with its non-ASCII characters encoded (IRI to URI), macros kept as they are."""
    parts = _MACRO_RE.split(template)  # text, macro name, text, ...
    return "".join(f"{{{part}}}" if index % 2 else (netguard.to_uri if index == 0 else netguard.to_uri_part)(part)
                   for index, part in enumerate(parts))


def validate_postback_template(template: str) -> None:
    """Raise netguard.UnsafeURL unless the template is an http(s) URL to a public host (no macros in the host)
    using only the known macros."""
    from urllib.parse import urlsplit

    unknown = [name for name in _MACRO_RE.findall(template) if name not in POSTBACK_MACROS]
    if unknown or "{" in _MACRO_RE.sub("", template) or "}" in _MACRO_RE.sub("", template):
        shown = ", ".join(dict.fromkeys(f"{{{name}}}" for name in unknown)) or "a brace outside a macro"
        known = ", ".join(f"{{{name}}}" for name in POSTBACK_MACROS)
        raise netguard.UnsafeURL(f"Unknown macros: {shown}. Known macros (case matters): {known}.")
    try:
        host = urlsplit(template).netloc
    except ValueError as exc:
        raise netguard.UnsafeURL("Not a valid URL.") from exc
    if "{" in host or "}" in host:
        raise netguard.UnsafeURL("Macros are not allowed in the host of a postback URL.")
    netguard.check_url(expand_postback(template, {}))


# --- emitting ------------------------------------------------------------------------------------
def envelope(delivery_id: str, network_id: int, event: str, data: dict, created_at=None) -> dict:
    """A webhook's JSON body. `type` and `timestamp` are the Standard Webhooks names of `event` and `created_at`."""
    created = (created_at or timezone.now()).isoformat()
    return {"id": delivery_id, "event": event, "type": event, "network": network_id, "created_at": created,
            "timestamp": created, "data": data}


def _body(delivery_id: str, network_id: int, event: str, data: dict) -> str:
    return json.dumps(envelope(delivery_id, network_id, event, data), cls=DjangoJSONEncoder, separators=(",", ":"))


def _message_id(delivery: Delivery) -> str:
    """The body's `id` (the same for every attempt, so a receiver can drop a repeat), else one from the row."""
    try:
        return str(json.loads(delivery.body)["id"])
    except (ValueError, KeyError, TypeError):
        return f"dlv_{delivery.network_id}_{delivery.pk}"


def event_emit(
    *,
    network_id: int,
    event: str,
    data: dict,
    advertiser_id: int | None = None,
    affiliate_id: int | None = None,
    macros: dict | None = None,
) -> None:
    """Queue `event` (e.g. "commission.approved") for delivery after the current transaction commits.

    - `data` is the JSON body sent to the advertiser's webhook endpoints subscribed to `event`
      (and to the network's operator endpoints).
    - When `affiliate_id` is given, that affiliate's postback URL template is fired with `macros`
      ({click_id}, {sub1}..{sub5}, {order_id}, {amount}, {payout}, {currency}, {status}, {program_id}).
    """
    events_emit(network_id=network_id, events=[Event(event, data, advertiser_id, affiliate_id, macros)])


@dataclass(frozen=True)
class Event:
    event: str
    data: dict
    advertiser_id: int | None = None
    affiliate_id: int | None = None
    macros: dict | None = None


def events_emit(*, network_id: int, events: list[Event]) -> None:
    """`event_emit` for many events of one network: the endpoints and postback templates are read once."""
    if not events:
        return
    endpoints = list(WebhookEndpoint.objects.for_network(network_id).filter(is_active=True))
    affiliate_ids = {item.affiliate_id for item in events if item.affiliate_id is not None}
    templates = {pk: (url, chosen) for pk, url, chosen in Affiliate.objects.filter(
        pk__in=affiliate_ids, network_id=network_id).exclude(postback_url="").values_list(
        "pk", "postback_url", "postback_events")} if affiliate_ids else {}
    deliveries = []
    for item in events:
        deliveries.extend(
            _webhook_delivery(network_id, item.event, endpoint, item.data)
            for endpoint in endpoints
            if endpoint.advertiser_id in (None, item.advertiser_id) and endpoint.subscribes_to(item.event)
        )
        template, chosen = templates.get(item.affiliate_id, ("", None))
        if template and postback_fires(chosen, item.event):
            deliveries.append(_postback_delivery(network_id, item.event, item.affiliate_id, template,
                                                 item.macros or {}))
    if deliveries:
        _save_and_queue(deliveries)


def _webhook_delivery(network_id: int, event: str, endpoint: WebhookEndpoint, data: dict) -> Delivery:
    return Delivery(
        network_id=network_id, kind=Delivery.Kind.WEBHOOK, event=event, endpoint=endpoint,
        advertiser_id=endpoint.advertiser_id, url=endpoint.url, method="POST",
        body=_body(f"evt_{uuid.uuid4().hex}", network_id, event, data),
    )


def _postback_delivery(network_id: int, event: str, affiliate_id: int, template: str, macros: dict) -> Delivery:
    return Delivery(network_id=network_id, kind=Delivery.Kind.POSTBACK, event=event, affiliate_id=affiliate_id,
                    url=expand_postback(template, {"event": event} | macros), method="GET")


def _save_and_queue(deliveries: list[Delivery]) -> list[Delivery]:
    created = Delivery.objects.bulk_create(deliveries)
    ids, networks = [delivery.pk for delivery in created], [delivery.network_id for delivery in created]
    transaction.on_commit(lambda: _queue(ids, networks))
    return created


def delivery_create(*, network_id: int, kind: str, event: str, data: dict, endpoint: WebhookEndpoint | None = None,
                    affiliate: Affiliate | None = None) -> Delivery:
    """One delivery to one target (test events), queued on commit."""
    if kind == Delivery.Kind.WEBHOOK:
        delivery = _webhook_delivery(network_id, event, endpoint, data)
    else:
        delivery = _postback_delivery(network_id, event, affiliate.pk, affiliate.postback_url, data)
    return _save_and_queue([delivery])[0]


def delivery_test_fire(*, network_id: int, event: str, data: dict, affiliate: Affiliate) -> DeliveryAttempt:
    """The affiliate's postback called once, now, with sample values: no retry follows (a person waits for the
    answer). The delivery is logged like any other; the SSRF check runs as for every send."""
    delivery = _postback_delivery(network_id, event, affiliate.pk, affiliate.postback_url, data)
    delivery.save(force_insert=True)
    return delivery_attempt(delivery, final=True, timeout=min(settings.OUTBOUND_TIMEOUT_SECONDS,
                                                              TEST_FIRE_TIMEOUT_SECONDS))


def answer_words(status_code: int) -> str:
    """An HTTP status in plain words."""
    if 200 <= status_code < 300:
        return _("Accepted: your receiver answered with success.")
    if 300 <= status_code < 400:
        return _("Redirect: your receiver answered with a redirect, which is not followed; use the final URL.")
    if status_code == 404:
        return _("Not found: your receiver has no page at this URL; check the path.")
    if status_code in (401, 403):
        return _("Refused: your receiver wants authentication or forbids this call.")
    if 400 <= status_code < 500:
        return _("Refused: your receiver rejected the request (a client error); check the URL and its parameters.")
    return _("Receiver error: your server failed while handling the call (a server error); check its logs.")


def _queue(ids: list[int], network_ids: list[int]) -> None:
    # tasks_outbound queues a send each, with its network
    deliveries_created.send(sender=Delivery, delivery_ids=ids, network_ids=network_ids)


def delivery_resend(*, network, delivery: Delivery, actor=None) -> Delivery:
    """Start a fresh cycle of attempts for a delivery (typically a failed one)."""
    from network.services import audit_log_record

    with transaction.atomic():
        Delivery.objects.filter(network=network, pk=delivery.pk).update(
            status=Delivery.Status.PENDING, next_attempt_at=None, completed_at=None)
        audit_log_record(network=network, actor=actor, action="delivery.resent", target=delivery)
        transaction.on_commit(lambda: _queue([delivery.pk], [delivery.network_id]))
    delivery.refresh_from_db()
    return delivery


# --- sending -------------------------------------------------------------------------------------
def backoff_seconds(attempt: int) -> int:
    """Delay after failed attempt number `attempt` (1-based): base, 2x base, 4x base..."""
    return settings.OUTBOUND_RETRY_BASE_SECONDS * 2 ** (attempt - 1)


def plain_error(exc: OSError, timeout: float) -> str:
    """What went wrong with a call, in words a person acts on (the logs and the test fire show it)."""
    if isinstance(exc, TimeoutError):  # socket.timeout too
        return _("No answer: the request timed out after %(seconds)s s.") % {"seconds": f"{timeout:g}"}
    if isinstance(exc, ConnectionRefusedError):
        return _("Connection refused: nothing accepts connections at that address and port.")
    if isinstance(exc, ConnectionResetError):
        return _("The receiver closed the connection before answering.")
    if isinstance(exc, socket.gaierror):
        return _("DNS failure: the host name does not resolve.")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("TLS failure: the receiver's certificate is not valid for its host name (%(reason)s).") % {
            "reason": getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc}
    if isinstance(exc, ssl.SSLError):
        return _("TLS failure: the secure connection could not be set up (%(reason)s).") % {
            "reason": getattr(exc, "reason", None) or exc}
    if isinstance(exc, OSError) and str(exc).startswith("HTTP error"):
        return _("The receiver's answer is not valid HTTP.")
    return _("Network error: %(error)s") % {"error": str(exc) or exc.__class__.__name__}


def delivery_attempt(delivery: Delivery, *, final: bool, timeout: float | None = None) -> DeliveryAttempt:
    """One HTTP attempt, logged. `final`: no retry follows a failure (the delivery becomes failed)."""
    headers = {}
    body = delivery.body.encode()
    url = delivery.url
    status_code = latency = None
    excerpt = error = ""
    endpoint = delivery.endpoint
    if delivery.kind == Delivery.Kind.WEBHOOK:
        headers["Content-Type"] = "application/json"
        headers["X-Event"] = delivery.event
        if endpoint is not None:
            url = endpoint.url  # the endpoint's current address and secret
            timestamp = int(time.time())
            headers[SIGNATURE_HEADER] = sign(endpoint.secret, body, timestamp)
            headers.update(standard_webhooks_headers(endpoint.secret, _message_id(delivery), body, timestamp))
    try:
        if delivery.kind == Delivery.Kind.WEBHOOK and (endpoint is None or not endpoint.is_active):
            raise netguard.UnsafeURL("The webhook endpoint was deleted or disabled; nothing sent.")
        response = netguard.request(delivery.method, url, body=body, headers=headers, timeout=timeout)
        status_code, latency = response.status_code, response.latency_ms
        excerpt = response.body[:500].decode("utf-8", "replace")
    except ValueError as exc:  # UnsafeURL, or a stored URL http.client cannot send (never the caller's 500)
        error, final = (str(exc) or exc.__class__.__name__)[:500], True  # retrying will not change the address
    except OSError as exc:
        error = plain_error(exc, timeout or settings.OUTBOUND_TIMEOUT_SECONDS)[:500]
    succeeded = status_code is not None and 200 <= status_code < 300
    number = delivery.attempts + 1
    retry_in = None if succeeded or final else backoff_seconds(number)
    now = timezone.now()
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.create(
            network_id=delivery.network_id, delivery=delivery, number=number, status_code=status_code,
            latency_ms=latency, response_excerpt=excerpt[:500], error=error, succeeded=succeeded,
            retry_in_seconds=retry_in,
        )
        delivery.attempts = number
        delivery.last_status_code, delivery.last_latency_ms = status_code, latency
        delivery.last_response_excerpt, delivery.last_error = excerpt[:500], error
        if succeeded:
            delivery.status, delivery.completed_at, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, now, None
        elif retry_in is None:
            delivery.status, delivery.completed_at, delivery.next_attempt_at = Delivery.Status.FAILED, now, None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        delivery.save(update_fields=["attempts", "last_status_code", "last_latency_ms", "last_response_excerpt",
                                     "last_error", "status", "completed_at", "next_attempt_at"])
    return attempt
