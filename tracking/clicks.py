"""The click hot path's building blocks: link lookup through a two-level cache (no SQL when warm),
destination URLs, visitor data (keyed IP hash, truncated IP, country) and the queued click record."""

import functools
import hmac
import logging
import re
import socket
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from django.core.cache import cache
from django.utils.encoding import iri_to_uri

from core.localcache import MISSING, LocalCache
from core.net import client_ip
from programs.deeplinks import is_allowed_destination
from programs.models import SUB_FIELDS, Program
from programs.targeting import compiled
from tracking.hotconf import conf

log = logging.getLogger(__name__)

# Each process keeps links and programs for LOCAL_TTL seconds in a dict; behind it the shared cache
# (Redis in production) keeps them for CACHE_TTL. Saves delete both (this process at once, others
# within LOCAL_TTL).
LOCAL_TTL = 5.0
CACHE_TTL = 300
MISSING_TTL = 30
LOCAL_MAX = 50_000
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SUB_MAX = 255
_GONE = {"gone": True}  # cached marker of an unknown code (so random codes do not each cost a query)

_local_links = LocalCache(ttl=LOCAL_TTL, max_size=LOCAL_MAX)
_local_programs = LocalCache(ttl=LOCAL_TTL, max_size=LOCAL_MAX)


def link_cache_key(code: str) -> str:
    return f"trk:link:{code}"


def program_cache_key(program_id: int) -> str:
    return f"trk:program:{program_id}"


def _load_link(code: str) -> dict:
    from programs.models import LinkCode, TrackingLink

    # The code's network first (a small table every node holds), then the link on that network's shard.
    network_id = LinkCode.objects.filter(code=code).values_list("network_id", flat=True).first()
    if network_id is None:
        return _GONE
    link = (
        TrackingLink.objects.filter(network_id=network_id, code=code)
        .select_related("partnership", "affiliate")
        .only("id", "code", "network_id", "program_id", "partnership_id", "affiliate_id", "destination_url",
              "sub1", "sub2", "sub3", "sub4", "sub5", "archived", "partnership__status", "partnership__caps",
              "partnership__caps_paused_until", "affiliate__status")
        .first()
    )
    if link is None or link.archived:
        return _GONE
    return {
        "link_id": link.id,
        "network_id": link.network_id,
        "program_id": link.program_id,
        "partnership_id": link.partnership_id,
        "affiliate_id": link.affiliate_id,
        "destination_url": link.destination_url,
        "subs": [link.sub1, link.sub2, link.sub3, link.sub4, link.sub5],
        # A suspended partnership or affiliate tracks nothing: handled like a paused program.
        "active": link.partnership.status == "approved" and link.affiliate.status == "active",
        # The partnership's own caps replace the program's: then its pause (not the program's) stops the link.
        "own_caps": link.partnership.caps is not None,
        "paused_until": _timestamp(link.partnership.caps_paused_until),
    }


def _timestamp(moment) -> float | None:
    return moment.timestamp() if moment is not None else None


def _load_program(program_id: int, network_id: int) -> dict:
    program = Program.objects.filter(network_id=network_id, pk=program_id).only(
        "status",
        "landing_url",
        "allowed_domains",
        "fallback_url",
        "attribution_window_days",
        "targeting",
        "advertiser_id",
        "caps_paused_until",
    ).first()
    if program is None:
        return _GONE
    return {
        "status": program.status,
        "landing_url": program.landing_url,
        "allowed_domains": list(program.allowed_domains or []),
        "fallback_url": program.fallback_url,
        "cookie_max_age": program.attribution_window_days * 86400,
        # None when nothing is restricted: the redirect then skips the look-ups altogether.
        "targeting": compiled(program.targeting),
        "advertiser_id": program.advertiser_id,
        "paused_until": _timestamp(program.caps_paused_until),
    }


def caps_paused(link: dict, program: dict, now: float) -> bool:
    """A cap whose action is `pause` was reached and its period has not ended (the moment is cached with the
    link and the program, so the period's end needs no invalidation)."""
    until = link.get("paused_until") if link.get("own_caps") else program.get("paused_until")
    return until is not None and now < until


def _cached(local: LocalCache, key, cache_key: str, loader, *args) -> dict:
    value = local.get(key)
    if value is not MISSING:
        return value
    try:
        value = cache.get(cache_key)
    except Exception:  # a cache outage must not take the redirect down: read the database
        log.warning("click cache read failed", exc_info=True)
        value = None
    if value is None:
        value = loader(key, *args)
        try:
            cache.set(cache_key, value, MISSING_TTL if value is _GONE or value.get("gone") else CACHE_TTL)
        except Exception:
            log.warning("click cache write failed", exc_info=True)
    local.set(key, value)
    return value


def link_lookup(code: str) -> tuple[dict, dict] | None:
    """(link, program) entries for a well-formed code, or None when the code is unknown or archived."""
    if not CODE_RE.match(code):
        return None
    link = _cached(_local_links, code, link_cache_key(code), _load_link)
    if link.get("gone"):
        return None
    program = _cached(_local_programs, link["program_id"], program_cache_key(link["program_id"]), _load_program,
                      link["network_id"])
    if program.get("gone"):
        return None
    return link, program


def forget_links(codes) -> None:
    codes = list(codes)
    for code in codes:
        _local_links.pop(code)
    cache.delete_many([link_cache_key(code) for code in codes])


def forget_program(program_id: int) -> None:
    _local_programs.pop(program_id)
    cache.delete(program_cache_key(program_id))


def clear_local_cache() -> None:
    _local_links.clear()
    _local_programs.clear()


# --- destination -------------------------------------------------------------------------
def _ascii_netloc(netloc: str) -> str:
    if netloc.isascii():
        return netloc
    host, sep, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    return host.encode("idna").decode("ascii") + sep + port


@functools.lru_cache(maxsize=4096)
def _split_destination(url: str, ours: tuple[str, ...]) -> tuple[str, str]:
    """(everything up to where our parameters go, "#fragment" or ""), ASCII-safe. Cached: a program's few
    destinations are split once, not on every click."""
    parts = urlsplit(url)
    kept = [piece for piece in parts.query.split("&") if piece and unquote_plus(piece.split("=", 1)[0]) not in ours]
    head = urlunsplit((parts.scheme, _ascii_netloc(parts.netloc), parts.path, "&".join(kept), ""))
    head += "&" if kept else "?"
    # iri_to_uri: a Location header is ASCII; existing %-escapes stay as they are.
    return iri_to_uri(head), iri_to_uri("#" + parts.fragment) if parts.fragment else ""


@functools.lru_cache(maxsize=4096)
def ascii_url(url: str) -> str:
    """A stored URL as a Location header may carry it (host in IDNA, the rest %-escaped), nothing added."""
    parts = urlsplit(url)
    return iri_to_uri(urlunsplit((parts.scheme, _ascii_netloc(parts.netloc), parts.path, parts.query, parts.fragment)))


def _q(value: str) -> str:
    return value if value.isascii() and value.isalnum() else quote(value, safe="")


def append_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query. The destination's own parameters stay byte for byte, except
    those we set (ours win); the fragment stays at the end."""
    head, fragment = _split_destination(url, tuple(params))
    return head + "&".join(f"{key}={_q(value)}" for key, value in params.items()) + fragment


def destination(link: dict, program: dict, deep_link: str | None, click_id: str, subs: list[str]) -> str:
    """Where the visitor goes: an allowed `url=` deep link, else the link's own deep link, else the landing URL."""
    base = link["destination_url"] or program["landing_url"]
    if deep_link and is_allowed_destination(
        deep_link, landing_url=program["landing_url"], allowed_domains=program["allowed_domains"]
    ):
        base = deep_link
    params = {"click_id": click_id}
    for index, value in enumerate(subs, start=1):
        if value:
            params[f"sub{index}"] = value
    return append_params(base, params)


# --- visitor -----------------------------------------------------------------------------
def visitor_ip(meta) -> str:
    """The visitor's address: the socket peer, or the address our own trusted proxies saw."""
    return client_ip(meta, conf().TRUSTED_PROXY_COUNT)


_V4_MAPPED = b"\0" * 10 + b"\xff\xff"


def _packed(ip: str) -> bytes | None:
    """The address in network byte order (4 or 16 bytes; IPv4-mapped IPv6 as IPv4), or None. C-speed parsing:
    this runs on every click."""
    ip = ip.strip()
    try:
        return socket.inet_pton(socket.AF_INET, ip)
    except OSError:
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, ip.strip("[]").split("%", 1)[0])
    except OSError:
        return None
    return packed[12:] if packed[:12] == _V4_MAPPED else packed


_hash_base = None


def ip_hash(ip: str) -> str:
    """Keyed HMAC-SHA256 of the address: comparable between clicks, useless without IP_HASH_KEY."""
    packed = _packed(ip)
    return "" if packed is None else _hash_packed(packed)


def _hash_packed(packed: bytes) -> str:
    global _hash_base
    key = conf().IP_HASH_KEY
    if _hash_base is None or _hash_base[0] != key:
        _hash_base = (key, key.encode())
    return hmac.digest(_hash_base[1], packed, "sha256").hex()


def ip_truncate(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of the address: coarse geography, not a person."""
    packed = _packed(ip)
    if packed is None:
        return ""
    return _truncate_packed(packed)


def ip_facts(ip: str) -> tuple[str, str]:
    """(keyed hash, truncated form) of an address, parsing it once."""
    packed = _packed(ip)
    if packed is None:
        return "", ""
    return _hash_packed(packed), _truncate_packed(packed)


def _truncate_packed(packed: bytes) -> str:
    if len(packed) == 4:
        return socket.inet_ntop(socket.AF_INET, packed[:3] + b"\0")
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + b"\0" * 10)


COUNTRY_HEADERS = ("HTTP_CF_IPCOUNTRY", "HTTP_CLOUDFRONT_VIEWER_COUNTRY", "HTTP_X_COUNTRY_CODE")


def visitor_country(meta) -> str:
    for header in COUNTRY_HEADERS:
        value = meta.get(header)
        if value and (value := value.strip().upper()):
            # "XX" and "T1" (Tor) are the CDN's "unknown"; only two letters are a country.
            return value if len(value) == 2 and value.isalpha() and value.isascii() and value != "XX" else ""
    return ""


def click_record(link: dict, click_id: str, subs: list[str], meta, targeted: tuple[str, str, str] | None = None
                 ) -> dict:
    """The queued click: Click field values by attribute name. The raw IP is not in it. `targeted`: the
    (country, device, reason off target) the redirect found for a program with targeting."""
    ip = visitor_ip(meta)
    hashed, truncated = ip_facts(ip)
    record = {
        "click_id": click_id,
        "network_id": link["network_id"],
        "program_id": link["program_id"],
        "partnership_id": link["partnership_id"],
        "link_id": link["link_id"],
        "affiliate_id": link["affiliate_id"],
        "sub1": subs[0],
        "sub2": subs[1],
        "sub3": subs[2],
        "sub4": subs[3],
        "sub5": subs[4],
        "ip_hash": hashed,
        "ip_truncated": truncated,
        "user_agent": meta.get("HTTP_USER_AGENT", "")[:512],
        "referrer": meta.get("HTTP_REFERER", "")[:1000],
        "country": visitor_country(meta),
        "device": "",
        "off_target": "",
    }
    if targeted is not None:
        record["country"], record["device"], record["off_target"] = targeted
    return record


_SUB_KEYS = SUB_FIELDS


def merge_subs(link_subs: list[str], query: dict[str, str]) -> list[str]:
    """The link's sub IDs, each overridden by a non-empty `subN` query parameter."""
    if not query:
        return link_subs
    return [(query.get(key) or link_subs[i] or "")[:SUB_MAX] for i, key in enumerate(_SUB_KEYS)]
