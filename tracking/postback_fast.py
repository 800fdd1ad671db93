"""The conversion postback's fast path: `POST /api/v1/conversions` for the common shape (order, amount,
currency, event, click id) in three SQL round trips (key, click, INSERT) and no DRF or ORM query building.

It handles only what it can decide alone: a valid advertiser key, a well-formed body of those fields and
either no click id or a click of this advertiser inside the program's window, in the program's currency (a
coupon sent beside such a click is kept: the click attributes; a coupon alone may attribute, so it goes on).
Anything else (other fields, bad input, a repeated order id, a pending or foreign click, webhooks to
queue, a key to mark as used, an `Idempotency-Key` header to honour) goes to the full DRF view, which answers
with the same shapes and messages. Every decision (the key's validity, the input checks, the click's
attribution, the fraud signals and the duplicate-order predicate, the row's fields) is the full path's own
function (see `tracking/recording.py`); only the I/O here is the fast path's.
"""

import hashlib
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.inputs import InputError, loads_json
from core.localcache import MISSING, LocalCache
from core.money import parse_amount
from core.throttling import FAST_VERDICT, ConversionRateThrottle, hit
from network.auth import api_key_refusal, key_use_due
from network.daily import LOCK_CLASS
from network.idempotency import wants_idempotency

from .attribution import SUB_FIELDS, click_attributes, conversion_warnings, coupon_find, first_click_before
from .daily import SUB_LENGTH, conversions_added
from .fraud import duplicate_order_params, duplicate_order_sql, evidence
from .ids import click_id_time, is_click_id
from .models import Conversion, ConversionDayChange
from .recording import (
    COUPON_MAX_LENGTH,
    DEFAULT_EVENT,
    EVENTS,
    RECORDING_ROLES,
    conversion_fields,
    money_errors,
    order_id_as_sent,
    program_currency_error,
)
from .serializers import conversion_recorded_representation
from .signals import conversion_recorded

log = logging.getLogger(__name__)

FAST_FIELDS = frozenset({"order_id", "amount", "currency", "event", "click_id", "coupon"})
# Set in the WSGI environ (request.META) once the middleware has tried a request: the view does not try again.
FAST_TRIED = "afn.postback.fast_tried"

# The key's row as it is: whether it may act and record is decided in Python, by the full path's own rules.
# Two statements: the key, its membership and user (tables every node holds, read before the network is known),
# then the advertiser and whether webhooks wait, on that network's shard (Citus runs neither as one statement).
_KEY_SQL = """
SELECT m.network_id, m.id, k.last_used_at, k.id, k.revoked_at IS NOT NULL, m.is_active, u.is_active, m.role
FROM network_apikey k
JOIN network_membership m ON m.id = k.membership_id
JOIN network_user u ON u.id = m.user_id
WHERE k.hashed_key = %s
"""
_PARTY_SQL = """
SELECT a.id, EXISTS (SELECT 1 FROM tracking_webhookendpoint w WHERE w.network_id = %s AND w.is_active
                     AND (w.advertiser_id IS NULL OR w.advertiser_id = a.id))
FROM network_advertiser a WHERE a.network_id = %s AND a.membership_id = %s
"""
_WEBHOOKS_SQL = """
SELECT EXISTS (SELECT 1 FROM tracking_webhookendpoint w WHERE w.network_id = %s AND w.is_active
               AND w.advertiser_id IS NULL)
"""
# The click's key (network_id, click_id, created_at) finds the one click, whatever the statistics say; the
# network is a plain equality so Citus sends the statement to that network's shard. The duplicate-order check is
# the full path's predicate (`fraud.duplicate_order_sql`), for the one buyer value this path has: the click id.
_FAST_BUYER = ("click_id",)
_CLICK_SQL = f"""
SELECT c.created_at, c.program_id, c.partnership_id, c.link_id, c.affiliate_id, c.sub1, c.sub2, c.sub3, c.sub4,
       c.sub5, c.country, c.is_bot, c.is_unique, p.advertiser_id, p.currency, p.attribution_window_days,
       p.fraud_policy, c.velocity_count, p.velocity_max_clicks, p.velocity_window_minutes,
       {duplicate_order_sql(_FAST_BUYER)}, p.name, c.off_target, c.device, c.ip_hash, p.attribution_model
FROM tracking_click c
JOIN programs_program p ON p.network_id = c.network_id AND p.id = c.program_id
WHERE c.network_id = %s AND c.click_id = %s AND c.created_at BETWEEN %s AND %s
"""  # noqa: S608 (the predicate's column names are fraud's own)
_FIELDS = [field for field in Conversion._meta.concrete_fields if field.column != "id"]
_COLUMNS = [field.column for field in _FIELDS]
# Values the database driver cannot take as they are (decimals, datetimes, JSON); the rest are plain. Each
# column's attribute, with its field when the value needs Django's adaptation.
_ADAPTED = {"amount", "refunded_amount", "clicked_at", "created_at", "items", "fraud_signals", "signal_details"}
_PARAMS = [(field.attname, field if field.column in _ADAPTED else None) for field in _FIELDS]
ZERO = Decimal(0)
# Column names come from the model; values are parameters.
_INSERT_SQL = (
    f"INSERT INTO tracking_conversion ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (network_id, advertiser_id, order_id) DO NOTHING RETURNING id"
)
# PostgreSQL: the INSERT and its day's difference (tracking.daily; a new ConversionDayChange row, so no two
# postbacks update one row) in one statement: one round trip still records both or neither. The network's
# day-table lock (network.daily) is taken shared in the same statement.
_SUBS_CUT = ", ".join(f"left(ins.{name}, {SUB_LENGTH})" for name in SUB_FIELDS)
_INSERT_WITH_DAY_SQL = f"""
WITH ins AS ({_INSERT_SQL}, network_id, created_at, advertiser_id, program_id, affiliate_id,
             {', '.join(SUB_FIELDS)}, country, currency, amount, status, attribution),
net AS (SELECT pg_advisory_xact_lock_shared({LOCK_CLASS}, id::int) AS locked, timezone
        FROM network_network WHERE id = %s),
day AS (
  INSERT INTO {ConversionDayChange._meta.db_table} (network_id, day, advertiser_id, program_id, affiliate_id,
                                      {', '.join(SUB_FIELDS)}, country, currency, conversions, click_conversions,
                                      sales)
  SELECT ins.network_id, (ins.created_at AT TIME ZONE net.timezone)::date, ins.advertiser_id,
         coalesce(ins.program_id, 0), coalesce(ins.affiliate_id, 0), {_SUBS_CUT}, ins.country, ins.currency, 1,
         CASE WHEN ins.attribution = 'click' THEN 1 ELSE 0 END, ins.amount
  FROM ins, net WHERE ins.status <> 'rejected')
SELECT id FROM ins
"""  # noqa: S608 (column and table names are ours)


def _numbered(sql: str) -> str:
    """%s placeholders -> $1, $2, ... (PREPARE's parameters)."""
    count = iter(range(1, sql.count("%s") + 1))
    return re.sub(r"%s", lambda _match: f"${next(count)}", sql)


# PostgreSQL: each statement is prepared once per connection (PREPARE), then run with EXECUTE: planning the
# joins and the partitioned click table on every postback cost more of the server's CPU than running them.
_STATEMENTS = {"afn_pb_key": _KEY_SQL, "afn_pb_party": _PARTY_SQL, "afn_pb_webhooks": _WEBHOOKS_SQL,
               "afn_pb_click": _CLICK_SQL, "afn_pb_insert": _INSERT_WITH_DAY_SQL}


def _execute(cursor, name: str, params: list) -> None:
    if connection.vendor != "postgresql" or not settings.POSTBACK_PREPARED_STATEMENTS:
        cursor.execute(_STATEMENTS[name], params)
        return
    raw = connection.connection
    if getattr(connection, "_afn_prepared_on", None) is not raw:
        for statement, sql in _STATEMENTS.items():
            cursor.execute(f"PREPARE {statement} AS {_numbered(sql)}")
        connection._afn_prepared_on = raw  # a new connection (reconnect) prepares again
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


# Each process keeps the key's row (network, advertiser, last use, id, whether webhooks wait) for KEY_TTL
# seconds: the look-up joins four tables and cost more CPU, in the server and in PostgreSQL, than the rest of the
# postback. Saves of keys, memberships, users, advertisers and webhook endpoints clear it in the process that
# makes them (`forget_keys`, connected in tracking.apps); other processes see a revoked key, a suspended
# member or a new webhook endpoint within KEY_TTL seconds. Django's own authentication (every other API call,
# and postbacks the fast path hands on) reads the key every time.
KEY_TTL = 2.0
_keys = LocalCache(ttl=KEY_TTL, max_size=10_000)


def forget_keys(**kwargs) -> None:
    _keys.clear()


def _key_row(cursor, hashed: str) -> tuple | None:
    row = _keys.get(hashed)
    if row is MISSING:
        _execute(cursor, "afn_pb_key", [hashed])
        key = cursor.fetchone()
        row = None
        if key is not None:
            network_id, membership_id, last_used_at, key_id, *flags = key
            _execute(cursor, "afn_pb_party", [network_id, network_id, membership_id])
            party = cursor.fetchone()
            if party is None:
                _execute(cursor, "afn_pb_webhooks", [network_id])
                party = (None, cursor.fetchone()[0])
            row = (network_id, party[0], last_used_at, key_id, party[1], *flags)
        _keys.set(hashed, row)
    return row


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _body(content_type: str, raw: bytes) -> dict | None:
    """The body when it is exactly the fast shape and valid; None sends the request to the full view."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        return None
    try:
        body = loads_json(raw)
    except InputError:
        return None  # the full view answers the same check's 400
    if not isinstance(body, dict) or not body.keys() <= FAST_FIELDS:
        return None
    order_id, currency, event = body.get("order_id"), body.get("currency"), body.get("event", DEFAULT_EVENT)
    click_id, coupon = body.get("click_id", ""), body.get("coupon", "")
    if not (isinstance(coupon, str) and len(coupon) <= COUPON_MAX_LENGTH) or not order_id_as_sent(order_id):
        return None
    if not (isinstance(currency, str) and isinstance(event, str) and event in EVENTS):
        return None
    if not isinstance(click_id, str) or (click_id and not is_click_id(click_id)):
        return None
    try:
        amount = parse_amount(body["amount"])
    except (KeyError, ValueError):
        return None
    currency = currency.upper()
    if money_errors(amount=amount, currency=currency) is not None:
        return None
    return {"order_id": order_id, "amount": amount, "currency": currency, "event": event, "click_id": click_id,
            "coupon": coupon.strip()}


def postback_fast(request) -> JsonResponse | None:
    """Django view helper: the 201 response, or None for the full view."""
    if wants_idempotency(request.META, request.method):
        return None
    data = record_fast(request.META.get("HTTP_AUTHORIZATION", ""), request.META.get("CONTENT_TYPE", ""),
                       request.body, meta=request.META)
    return None if data is None else JsonResponse(data, status=201)


def record_fast(authorization: str, content_type: str, raw: bytes, meta: dict | None = None) -> dict | None:
    """Record a common-shape conversion; its JSON (answered with 201), or None for the full view.

    The key's request is counted against the conversion rate here; the verdict goes into `meta` (the WSGI
    environ / request.META) so that the full view, when it takes over, neither counts it again nor lets a
    refused one through (it answers the 429)."""
    header = authorization.split()
    if len(header) != 2 or header[0].lower() != "bearer":
        return None
    body = _body(content_type, raw)
    if body is None:
        return None
    ops = connection.ops
    now = timezone.now()
    with connection.cursor() as cursor:
        hashed = hashlib.sha256(header[1].encode()).hexdigest()
        key = _key_row(cursor, hashed)
        if key is None:
            return None
        network_id, advertiser_id, last_used_at, key_id, has_webhooks, revoked, member_active, user_active, role = key
        if (api_key_refusal(revoked=bool(revoked), membership_active=bool(member_active),
                            user_active=bool(user_active)) is not None
                or role not in RECORDING_ROLES or advertiser_id is None):
            return None  # the full view answers the 401 or 403
        scope, ident = ConversionRateThrottle.scope, f"key:{key_id}"
        verdict = (meta or {}).get(FAST_VERDICT)
        if verdict is not None and verdict[:2] == (scope, ident):
            allowed = verdict[2]  # the WSGI middleware counted this request already
        else:
            allowed, wait = hit(scope, ident, settings.CONVERSION_THROTTLE_RATE)
            if meta is not None:
                meta[FAST_VERDICT] = (scope, ident, allowed, wait)
        if not allowed:
            return None
        if key_use_due(None if last_used_at is None else _aware(last_used_at), now):
            _keys.pop(hashed)  # the next request reads the use the full view is about to record
            return None  # the full view records the key's use (once a minute)
        if has_webhooks:
            return None  # webhooks to queue: the full view does it
        values, coupon = conversion_fields(kind=Conversion.Attribution.NONE, details=[], policy=None), None
        if body["coupon"] and not body["click_id"]:
            return None  # the coupon may attribute: the full view decides
        if body["click_id"]:
            at = click_id_time(body["click_id"])
            _execute(cursor, "afn_pb_click", [
                *duplicate_order_params(network_id=network_id, advertiser_id=advertiser_id,
                                        buyer={"click_id": body["click_id"]}, amount=body["amount"],
                                        currency=body["currency"], now=now),
                network_id, body["click_id"], ops.adapt_datetimefield_value(at - timedelta(days=1)),
                ops.adapt_datetimefield_value(at + timedelta(days=1)),
            ])
            click = cursor.fetchone()
            if click is None:
                return None  # not ingested yet (pending) or unknown: the full view decides
            (clicked_at, program_id, partnership_id, link_id, affiliate_id, *subs) = click[:11]
            is_bot, is_unique, program_advertiser, program_currency, window, policy = click[11:17]
            velocity_count, velocity_limit, velocity_minutes, duplicate, program_name = click[17:22]
            off_target, device, visitor, attribution_model = click[22:]
            clicked_at = _aware(clicked_at)
            if not click_attributes(program_advertiser_id=program_advertiser, advertiser_id=advertiser_id,
                                    clicked_at=clicked_at, window_days=window, now=now):
                return None  # the coupon or nothing attributes: the full view decides
            if first_click_before(network_id=network_id, program_id=program_id, model=attribution_model,
                                  ip_hash=visitor, window_days=window, clicked_at=clicked_at, now=now) is not None:
                return None  # the visitor's first click earns it: the full view records that (no query: last click)
            if program_currency_error(program_name=program_name, program_currency=program_currency,
                                      currency=body["currency"]) is not None:
                return None  # the full view answers the 400
            details = evidence(now=now, duplicate_order=bool(duplicate), click={
                "clicked_at": clicked_at, "is_bot": bool(is_bot), "is_unique": bool(is_unique),
                "velocity_count": velocity_count, "velocity_limit": velocity_limit,
                "velocity_window_minutes": velocity_minutes, "off_target": off_target, "country": subs[5],
                "device": device})
            values = conversion_fields(
                kind=Conversion.Attribution.CLICK, details=details, policy=policy, program_id=program_id,
                partnership_id=partnership_id, affiliate_id=affiliate_id, link_id=link_id, clicked_at=clicked_at,
                subs=dict(zip(SUB_FIELDS, subs[:5], strict=True)), country=subs[5])
            if body["coupon"]:
                # The click attributes; the coupon is kept (linked when it is an affiliate's code), as the full path.
                coupon = coupon_find(network=network_id, advertiser=advertiser_id, code=body["coupon"])
        # The row as attribute values (no model instance: this is the hot path), in the INSERT's column order.
        conversion = SimpleNamespace(
            network_id=network_id, advertiser_id=advertiser_id, order_id=body["order_id"], event=body["event"],
            amount=body["amount"], currency=body["currency"], refunded_amount=ZERO,
            coupon=coupon, coupon_id=coupon.pk if coupon else None, coupon_code=body["coupon"],
            click_id=body["click_id"], first_click_id="", customer_id="", customer_email_hash="", customer_ip_hash="",
            items=[], created_at=now, is_test=False, **values,
        )
        attrs = vars(conversion)
        params = [attrs[attname] if field is None else field.get_db_prep_save(attrs[attname], connection)
                  for attname, field in _PARAMS]
        if connection.vendor == "postgresql":
            # One statement, so no explicit transaction (no BEGIN/COMMIT round trips); on_commit runs right after
            # it, or after the caller's transaction when there is one.
            _execute(cursor, "afn_pb_insert", [*params, network_id])
            row = cursor.fetchone()
        else:
            with transaction.atomic():
                cursor.execute(_INSERT_SQL, params)
                row = cursor.fetchone()
                if row is not None:
                    conversions_added(network_id, [row[0]])
        if row is None:
            return None  # the order id exists: the full view answers 200 or 409
        conversion.id = conversion.pk = conversion_id = row[0]
        transaction.on_commit(lambda: conversion_recorded.send(sender=Conversion, conversion_id=conversion_id,
                                                               network_id=network_id))
    return conversion_recorded_representation(conversion, conversion_warnings(conversion))


class FastPostbackMiddleware:
    """WSGI middleware: serves the common postback before Django's middleware stack (like the click redirect's
    minimal handler) and hands everything else, with its body, to the Django application.

    Wire it in the WSGI entry point: `application = FastPostbackMiddleware(get_wsgi_application())`.
    """

    PATHS = frozenset({"/api/v1/conversions", "/api/v1/conversions/"})
    MAX_BODY = 65536

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") in self.PATHS and environ.get("REQUEST_METHOD") == "POST"
                and not wants_idempotency(environ, "POST")):
            environ[FAST_TRIED] = True
            response = self._fast(environ)
            if response is not None:
                start_response("201 Created", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(response))),
                                               ("X-Content-Type-Options", "nosniff")])
                return [response]
        return self.app(environ, start_response)

    def _fast(self, environ) -> bytes | None:
        from django.db import close_old_connections
        from django.http.request import split_domain_port, validate_host

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= self.MAX_BODY:
            return None
        secure = environ.get("wsgi.url_scheme") == "https" or (
            settings.SECURE_PROXY_SSL_HEADER is not None
            and environ.get(settings.SECURE_PROXY_SSL_HEADER[0]) == settings.SECURE_PROXY_SSL_HEADER[1])
        host, _ = split_domain_port(environ.get("HTTP_HOST", ""))
        if (settings.SECURE_SSL_REDIRECT and not secure) or not validate_host(host, settings.ALLOWED_HOSTS):
            return None  # Django answers these (redirect to https, 400 for a bad host)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # the full view reads the same body
        environ["CONTENT_LENGTH"] = str(len(raw))
        # Django's request cycle drops stale or broken connections at each request's start and end; so does this
        # handler, which runs outside that cycle. Never inside a transaction (a test's, or a caller's): closing
        # there would end it.
        outside_transaction = not connection.in_atomic_block
        if outside_transaction:
            close_old_connections()
        # No health-check round trip before the first query: a broken connection fails that query, and the
        # request goes on to the full view, which reconnects (an order already written answers 200 there).
        connection.health_check_done = True
        try:
            data = record_fast(environ.get("HTTP_AUTHORIZATION", ""), environ.get("CONTENT_TYPE", ""), raw,
                               meta=environ)
        except DatabaseError:
            log.warning("postback fast path: database error, handing the request to the full view", exc_info=True)
            if outside_transaction:
                connection.close()
            data = None
        finally:
            if outside_transaction:
                close_old_connections()
        return None if data is None else json.dumps(data, cls=DjangoJSONEncoder).encode()
