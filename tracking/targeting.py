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

# What the parser names: tablets' device families and brands, phones' families, and the systems only phones or
# only computers run.
_TABLET_WORDS = ("Tablet", "iPad", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10")
_PHONE_FAMILIES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})
_PHONE_SYSTEMS = frozenset({"Windows Phone", "Windows Mobile", "BlackBerry OS", "KaiOS", "Symbian OS", "Firefox OS",
                            "Tizen", "Sailfish", "webOS"})
_COMPUTER_SYSTEMS = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD",
                               "OpenBSD", "NetBSD", "Red Hat", "SUSE", "Mint", "Arch Linux", "Gentoo", "Solaris"})


@functools.lru_cache(maxsize=16384)
def device_type(user_agent: str) -> str:
    """"tablet", "mobile" or "desktop" (everything else: computers, TVs, bots, no user agent at all).

    The operating system first (its rules are few: a fraction of a millisecond for a new user agent); the device's
    (thousands of rules, milliseconds) only when the system leaves it open (unknown systems)."""
    if not user_agent:
        return "desktop"
    if "Tablet" in user_agent:
        return "tablet"
    system = ua_parser.parse_os(user_agent)
    system = system.family if system else ""
    if system == "Android":
        # Android's own convention: phones' browsers say "Mobile", tablets' do not.
        return "mobile" if "Mobile" in user_agent else "tablet"
    if system == "iOS":
        return "tablet" if "iPad" in user_agent else "mobile"  # iPhone, iPod touch
    if system in _PHONE_SYSTEMS:
        return "mobile"
    if system in _COMPUTER_SYSTEMS:
        return "desktop"
    device = ua_parser.parse_device(user_agent)
    family = device.family if device else ""
    brand = (device.brand or "") if device else ""
    if any(word in family or word in brand for word in _TABLET_WORDS):
        return "tablet"
    if family in _PHONE_FAMILIES or "Feature_Phone" in brand or "Smartphone" in brand or "Mobi" in user_agent:
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
