"""`Idempotency-Key` on API POSTs (as Stripe's API does): the first answer to a key is kept for 24 hours and
given again to the same request, without running it twice. The base API view (network.tenancy) calls
`idempotency_begin()` before its handler and `idempotency_finish()` with the answer.

A key belongs to its scope: the API key that sent it, or the member (user in a network) when the call came with
a session. The same key with another method, path or body answers 422; while its first request still runs, 409.
5xx answers are not kept (a retry runs again); other answers, 4xx included, are.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException

from .models import ApiKey, IdempotencyKey, Membership, Network

HEADER = "Idempotency-Key"
META_NAME = "HTTP_IDEMPOTENCY_KEY"  # the header in the WSGI environ / request.META
MAX_LENGTH = 255
KEPT_FOR = timedelta(hours=24)
# A first request that never answered (its process died) stops blocking its key after this long: longer than
# any request may run, so a request still running is never run twice.
ABANDONED_AFTER = timedelta(minutes=10)
REPLAYED_HEADER = "Idempotent-Replayed"


class KeyInvalid(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = f"The {HEADER} header must be 1 to {MAX_LENGTH} characters."
    default_code = "idempotency_key_invalid"


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = (f"A request with an {HEADER} header is read whole to be compared with its retries: send a "
                      "smaller body (the limit is DATA_UPLOAD_MAX_MEMORY_SIZE), or no key.")
    default_code = "idempotency_body_too_large"


class KeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = f"A request with this {HEADER} is still being processed; retry after it has finished."
    default_code = "idempotency_key_in_use"


class KeyReused(APIException):
    status_code = 422
    default_detail = (f"This {HEADER} was already used with another request (method, path or body); "
                      "use a new key for a new request.")
    default_code = "idempotency_key_reused"


class Replay(Exception):
    """Raised before the handler runs: the view answers `response`, the kept first answer."""

    def __init__(self, response: HttpResponse):
        super().__init__("idempotent replay")
        self.response = response


def wants_idempotency(meta: dict, method: str) -> bool:
    """Whether a request asks for it: a POST with the header (the postback's fast path leaves these to the view)."""
    return method == "POST" and META_NAME in meta


def body_read(request, limit: int | None = None) -> None:
    """Read the raw body now, before any parser or CSRF check consumes the stream: the fingerprint hashes it.

    `limit`: a view taking uploads larger than DATA_UPLOAD_MAX_MEMORY_SIZE (the CSV import) keeps bodies up to it."""
    django_request = getattr(request, "_request", request)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if limit is not None and not hasattr(django_request, "_body") and 0 < length <= limit:
        # What HttpRequest.body does, with this view's limit instead of the global one.
        django_request._body = django_request.read()
        django_request._stream = io.BytesIO(django_request._body)
        return
    try:
        request.body  # noqa: B018 (Django keeps it; the parsers then read from the kept bytes)
    except RequestDataTooBig as exc:
        raise BodyTooLarge() from exc


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no two requests share one byte string
        digest.update(part)
    return digest.hexdigest()


@dataclass
class Claim:
    """A key this request holds while its handler runs."""

    row: IdempotencyKey


def idempotency_begin(request, membership: Membership | None) -> Claim | None:
    """For a DRF request after authentication: None when the request has no key (or no member to scope it to);
    the claim to finish otherwise. Raises KeyInvalid (400), KeyReused (422), KeyInUse (409) or Replay."""
    if membership is None or not wants_idempotency(request.META, request.method):
        return None
    key = request.META[META_NAME]
    if not 0 < len(key) <= MAX_LENGTH:
        raise KeyInvalid()
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    fingerprint = request_fingerprint(request.method, request.get_full_path(), request.body)
    return idempotency_claim(network=membership.network, membership=membership, api_key=api_key, key=key,
                             fingerprint=fingerprint)


def _scope(*, network: Network, membership: Membership, api_key: ApiKey | None, key: str):
    rows = IdempotencyKey.objects.for_network(network).filter(key=key)
    if api_key is not None:
        return rows.filter(api_key=api_key)
    return rows.filter(api_key__isnull=True, membership=membership)


def idempotency_claim(*, network: Network, membership: Membership, api_key: ApiKey | None, key: str,
                      fingerprint: str, now: datetime | None = None) -> Claim:
    """Take `key` for a request with `fingerprint`, or raise what its earlier use says (see idempotency_begin)."""
    now = now or timezone.now()
    rows = _scope(network=network, membership=membership, api_key=api_key, key=key)
    rows.filter(created_at__lt=now - KEPT_FOR).delete()  # expired, not purged yet: the key is free again
    for _ in range(2):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(network=network, membership=membership, api_key=api_key,
                                                    key=key, fingerprint=fingerprint, created_at=now)
            return Claim(row)
        except IntegrityError:
            row = rows.first()
            if row is None:  # deleted (expired or released) between the INSERT and this read: try once more
                continue
        if row.fingerprint != fingerprint:
            raise KeyReused()
        if row.status_code is not None:
            raise Replay(replay_response(row))
        taken_over = rows.filter(pk=row.pk, status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER).update(
            created_at=now)
        if taken_over:
            row.created_at = now
            return Claim(row)
        raise KeyInUse()
    raise KeyInUse()


def replay_response(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.response_body), status=row.status_code)
    for name, value in row.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotency_finish(claim: Claim, response) -> None:
    """Keep the answer for the key's later uses; a 5xx (or a streamed answer) frees the key instead."""
    rows = IdempotencyKey.objects.for_network(claim.row.network_id).filter(pk=claim.row.pk, status_code__isnull=True)
    if response.status_code >= 500 or isinstance(response, StreamingHttpResponse):
        rows.delete()
        return
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    rows.update(status_code=response.status_code, response_body=bytes(response.content),
                response_headers=dict(response.items()))


def idempotency_release(claim: Claim) -> None:
    """The request ended without an answer (an error escaped the view): a retry runs it again."""
    IdempotencyKey.objects.for_network(claim.row.network_id).filter(pk=claim.row.pk, status_code__isnull=True).delete()


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the keys older than KEPT_FOR, network by network. Returns rows deleted."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    deleted = 0
    for network_id in Network.objects.values_list("id", flat=True):
        count, _ = IdempotencyKey.objects.for_network(network_id).filter(created_at__lt=cutoff).delete()
        deleted += count
    return deleted
