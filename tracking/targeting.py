"""The visitor's side of a program's targeting at the redirect: the country (the CDN's header, else an offline
IP-to-country table) and the device type (a user-agent parser), each cheap on the hot path.

The country table (iptocc: the Regional Internet Registries' allocations, built into the package) is loaded once
per process; device types are remembered per user-agent string. `warm()` loads both before the first click.
"""

import functools

import iptocc
import ua_parser

from programs.targeting import needs_country, targeting_miss

from .clicks import visitor_country, visitor_ip

# Device brands/families the parser names for tablets, and the operating systems only phones run.
_TABLET_WORDS = ("Tablet", "iPad", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10")
_PHONE_SYSTEMS = frozenset({"iOS", "Windows Phone", "BlackBerry OS", "KaiOS", "Symbian OS", "Firefox OS", "Tizen"})
_PHONE_FAMILIES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})


@functools.lru_cache(maxsize=16384)
def device_type(user_agent: str) -> str:
    """"tablet", "mobile" or "desktop" (everything else: computers, TVs, bots, no user agent at all)."""
    if not user_agent:
        return "desktop"
    result = ua_parser.parse(user_agent)
    device = result.device
    family = device.family if device else ""
    brand = (device.brand or "") if device else ""
    system = result.os.family if result.os else ""
    if any(word in family or word in brand for word in _TABLET_WORDS) or "Tablet" in user_agent:
        return "tablet"
    if system == "Android":
        # Android's own convention: phones' browsers say "Mobile", tablets' do not.
        return "mobile" if "Mobile" in user_agent else "tablet"
    if family in _PHONE_FAMILIES or system in _PHONE_SYSTEMS or "Feature_Phone" in brand or "Mobi" in user_agent:
        return "mobile"
    return "desktop"


def ip_country(ip: str) -> str:
    """The country the registries allocated the address to ("" for private, reserved or unknown addresses)."""
    try:
        return iptocc.country_code(ip) or ""
    except (ValueError, TypeError):
        return ""


def visit(meta, rules: tuple) -> tuple[str, str, str]:
    """(country, device, why the visit misses the targeting or "") for a WSGI environ and a program's compiled
    targeting (`programs.targeting.compiled`). Only what the rules need is looked up."""
    country = visitor_country(meta)
    if not country and needs_country(rules):
        country = ip_country(visitor_ip(meta))
    device = device_type(meta.get("HTTP_USER_AGENT", "")[:512]) if rules[2] else ""
    return country, device, targeting_miss(rules, country=country, device=device)


def warm() -> None:
    """Load the country table and the parser's rules now, not on the first visitor's click."""
    ip_country("192.0.2.1")
    device_type.__wrapped__("Mozilla/5.0 (Linux; Android 14) Mobile")
