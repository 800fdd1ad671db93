"""Which host is whose: the verified tracking domains (cached: the click redirect and every request ask), the
base URL a network's links are built on, the request's own address when no public URL is set, the middleware
that lets verified domains through Django's host check, and the reverse proxy's on-demand TLS question."""

import contextvars
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.views.decorators.http import require_GET

from core.localcache import MISSING, LocalCache

log = logging.getLogger(__name__)

# Per process for LOCAL_TTL seconds, behind it the shared cache for CACHE_TTL (a host nobody has: MISS_TTL);
# verifying or deleting a domain drops both (other processes' copies within LOCAL_TTL).
LOCAL_TTL = 5.0
CACHE_TTL = 300
MISS_TTL = 30
_NOBODY = {"network_id": None}
_local_hosts = LocalCache(ttl=LOCAL_TTL, max_size=10_000)
_local_networks = LocalCache(ttl=LOCAL_TTL, max_size=10_000)
_local_raw = LocalCache(ttl=LOCAL_TTL, max_size=10_000)  # Host headers as sent ("Trk.Example.com:443")
# Branded domains are served over HTTPS (the reverse proxy's on-demand certificates, docs/operations.md).
DOMAIN_SCHEME = "https"


def host_key(domain: str) -> str:
    return f"trk:host:{domain}"


def network_key(network_id: int) -> str:
    return f"trk:domains:{network_id}"


def _cached(local: LocalCache, key, cache_key: str, loader, *, miss_ttl: int = CACHE_TTL):
    value = local.get(key)
    if value is not MISSING:
        return value
    try:
        value = cache.get(cache_key)
    except Exception:  # a cache outage must not take requests down: read the database
        log.warning("tracking domain cache read failed", exc_info=True)
        value = None
    if value is None:
        value = loader(key)
        try:
            cache.set(cache_key, value, miss_ttl if value is _NOBODY else CACHE_TTL)
        except Exception:
            log.warning("tracking domain cache write failed", exc_info=True)
    local.set(key, value)
    return value


def normalize_host(host: str) -> str:
    """A Host header's name: lower case, without port or trailing dot ("" for nothing usable)."""
    domain, _port = split_domain_port((host or "").lower())
    return domain.removesuffix(".") if len(domain) <= 254 else ""


def _load_host(domain: str) -> dict:
    # The host names its network through the verified-domain table (a reference table under Citus, like link
    # codes): the tracking domain is then read on that network alone (its shard), never across networks.
    from .models import TrackingDomain, VerifiedDomain

    network_id = VerifiedDomain.objects.filter(domain=domain).values_list("network_id", flat=True).first()
    if network_id is None:
        return _NOBODY
    row = TrackingDomain.objects.filter(network_id=network_id, domain=domain, verified_at__isnull=False).values(
        "network_id", "advertiser_id").first()
    return row or _NOBODY


def domain_owner(host: str) -> dict | None:
    """{"network_id", "advertiser_id"} of a verified tracking domain, None for any other host (the platform's).
    Warm: one dict look-up by the Host header as sent (every click asks)."""
    owner = _local_raw.get(host)
    if owner is MISSING:
        domain = normalize_host(host)
        owner = _NOBODY
        if domain and "." in domain:
            owner = _cached(_local_hosts, domain, host_key(domain), _load_host, miss_ttl=MISS_TTL)
        _local_raw.set(host, owner)
    return owner if owner.get("network_id") is not None else None


def _load_network(network_id: int) -> dict:
    from .models import TrackingDomain

    found = {"network": None, "advertisers": {}}
    rows = TrackingDomain.objects.filter(network_id=network_id, verified_at__isnull=False).order_by("verified_at", "id")
    for advertiser_id, domain in rows.values_list("advertiser_id", "domain"):
        if advertiser_id is None:
            found["network"] = found["network"] or domain
        else:
            found["advertisers"].setdefault(str(advertiser_id), domain)
    return found


def network_domains(network_id: int) -> dict:
    """The network's verified domains: {"network": its own or None, "advertisers": {"<id>": domain}}; the first
    verified wins where there are several."""
    return _cached(_local_networks, network_id, network_key(network_id), _load_network)


def forget(*, network_id: int, domain: str) -> None:
    _local_hosts.pop(domain)
    _local_raw.clear()  # its keys are spellings of host names: which ones are this domain's is not known
    _local_networks.pop(network_id)
    try:
        cache.delete_many([host_key(domain), network_key(network_id)])
    except Exception:
        log.warning("tracking domain cache delete failed", exc_info=True)


def clear_local_cache() -> None:
    _local_hosts.clear()
    _local_raw.clear()
    _local_networks.clear()


# --- base URLs --------------------------------------------------------------------------------
_request = contextvars.ContextVar("request", default=None)


def request_origin() -> str | None:
    """`scheme://host[:port]` of the request being answered, if any: its host is allowed and is not a network's
    tracking domain (another network's links built on it would answer 404 there)."""
    request = _request.get()
    if request is None:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return None if domain_owner(host) is not None else f"{request.scheme}://{host}"


def platform_base_url() -> str:
    """The platform's own tracking address: TRACKING_BASE_URL when set, else the address the request came to,
    else SITE_URL (which follows BIND in the embedded default)."""
    return settings.TRACKING_BASE_URL or request_origin() or settings.SITE_URL


def tracking_base_url(*, network_id: int, advertiser_id=None) -> str:
    """Where a network's links live: the advertiser's verified domain (when `advertiser_id`, an id or a callable
    giving it, names one that has), else the network's, else the platform's address. The one decision every
    link, creative and snippet goes through (programs.selectors.tracking_url)."""
    domains = network_domains(network_id)
    if domains["advertisers"] and advertiser_id is not None:
        if callable(advertiser_id):  # read only when some advertiser has a domain (no query otherwise)
            advertiser_id = advertiser_id()
        if domain := domains["advertisers"].get(str(advertiser_id)):
            return f"{DOMAIN_SCHEME}://{domain}"
    if domains["network"]:
        return f"{DOMAIN_SCHEME}://{domains['network']}"
    return platform_base_url()


# --- the host check ---------------------------------------------------------------------------
def _configured_hosts() -> list[str]:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # Django's own default in DEBUG
    return allowed


class TrackingHostMiddleware:
    """Lets a request for a verified tracking domain past Django's ALLOWED_HOSTS check (only verified ones: a
    cached look-up, the first thing a request meets), and keeps the request at hand for `request_origin()`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request._get_raw_host()
        domain, _port = split_domain_port(raw)
        if domain and not validate_host(domain, _configured_hosts()) and domain_owner(domain) is not None:
            request.get_host = lambda: raw
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


@require_GET
def tls_ask(request):
    """`GET /tls/ask?domain=<host>`: 200 if the host is a verified tracking domain, else 404. The reverse proxy
    asks it before getting a certificate on demand (Caddy's `on_demand_tls { ask ... }`)."""
    if domain_owner(request.GET.get("domain", "")) is None:
        return HttpResponse("Not a verified tracking domain.\n", status=404, content_type="text/plain")
    return HttpResponse("OK\n", content_type="text/plain")
