"""API rate limits: fixed-window counters in Django's cache (Redis in production), one per API key.

Rates come from settings (`API_THROTTLE_RATE`, `CONVERSION_THROTTLE_RATE`, `ANON_THROTTLE_RATE`), read at
each request. A counter per key and window costs one Redis round trip, unlike DRF's SimpleRateThrottle,
which keeps every request's timestamp (60,000 of them for the postback's rate).
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from core.net import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Where the postback's fast path leaves its verdict for the full view, so a request is counted once.
FAST_VERDICT = "afn.throttle.verdict"


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """`"1200/min"` -> (1200, 60); empty, `"0"` or `"off"` -> None (no limit)."""
    if not rate or str(rate).strip().lower() in ("0", "off", "none"):
        return None
    count, _, period = str(rate).partition("/")
    return int(count), PERIODS[period.strip()[:1].lower() or "s"]


def hit(scope: str, ident: str, rate: str | None) -> tuple[bool, float | None]:
    """Count one request of `ident` in `scope`: (allowed, seconds until the window ends when refused)."""
    parsed = parse_rate(rate)
    if parsed is None:
        return True, None
    limit, duration = parsed
    now = time.time()
    window = int(now // duration)
    count = _count(f"throttle:{scope}:{ident}:{window}", duration + 1)
    if count <= limit:
        return True, None
    return False, max(1, math.ceil((window + 1) * duration - now))


def _count(key: str, ttl: int) -> int:
    """Add one to the window's counter (created with its expiry) and return it."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # One round trip on the postback's path instead of Django's EXISTS + INCR (+ SET for a new window).
        # The values stay plain integers, which Django's Redis cache reads back as they are.
        full_key = cache.make_and_validate_key(key)
        pipe = cache._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=ttl, nx=True)
        pipe.incr(full_key)
        return pipe.execute()[1]
    try:
        return cache.incr(key)
    except ValueError:
        return 1 if cache.add(key, 1, timeout=ttl) else cache.incr(key)


def key_ident(request) -> str | None:
    """The API key (or, for a session, the user) a request is counted against; None when anonymous."""
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "pk", None) is not None:
        return f"key:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def client_address(request) -> str:
    """The client address, read as the click redirect reads it (`TRUSTED_PROXY_COUNT`)."""
    return client_ip(request.META, settings.TRUSTED_PROXY_COUNT)


def client_ident(request) -> str:
    """The client address, hashed: raw IPs never reach the cache."""
    return "ip:" + hashlib.sha256(f"{settings.IP_HASH_KEY}:{client_address(request)}".encode()).hexdigest()[:32]


class _WindowThrottle(BaseThrottle):
    scope = ""
    rate_setting = ""

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        verdict = request.META.get(FAST_VERDICT)
        if verdict is not None and verdict[:2] == (self.scope, ident):
            allowed, self._wait = verdict[2:]  # counted already by the fast path
            return allowed
        allowed, self._wait = hit(self.scope, ident, getattr(settings, self.rate_setting))
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class ApiKeyRateThrottle(_WindowThrottle):
    """Every authenticated API call, per key (`API_THROTTLE_RATE`)."""

    scope, rate_setting = "api", "API_THROTTLE_RATE"

    def ident(self, request):
        return key_ident(request)


class ConversionRateThrottle(_WindowThrottle):
    """The conversion postback, per key, in its own high-volume scope (`CONVERSION_THROTTLE_RATE`)."""

    scope, rate_setting = "conversions", "CONVERSION_THROTTLE_RATE"

    def ident(self, request):
        return key_ident(request)


class AnonRateThrottle(_WindowThrottle):
    """Calls without a key or session (schema, pixel, provider webhooks), per client address."""

    scope, rate_setting = "anon", "ANON_THROTTLE_RATE"

    def ident(self, request):
        return None if key_ident(request) is not None else client_ident(request)
