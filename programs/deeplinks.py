"""Open-redirect-safe deep links: a destination must be http(s), carry no credentials, and have a
host the program allows (its landing URL's host, or one of `allowed_domains`, where "*.shop.test"
also allows every subdomain of shop.test)."""

import re
from urllib.parse import urlsplit

# One DNS label in its ASCII form (after IDNA encoding).
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _host(url: str) -> str | None:
    if not isinstance(url, str) or not url or len(url) > 2000:
        return None
    # Backslashes and control characters are read as "/" or dropped by some browsers: refuse them.
    if "\\" in url or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    del port
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None
    try:
        # Compare hosts in their ASCII (punycode) form, so a look-alike IDN never matches a plain name.
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    # Letters, digits and hyphens only: "evil.test%2F.shop.test" would pass a suffix match against
    # "*.shop.test", and browsers and Python disagree on what such a host is.
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        return None
    return host


def normalize_domain(domain: str) -> str | None:
    """An allowed-domain entry in canonical form ("*.shop.test" keeps its wildcard), or None if invalid."""
    if not isinstance(domain, str):
        return None
    domain = domain.strip().lower().rstrip(".")
    wildcard = domain.startswith("*.")
    bare = domain[2:] if wildcard else domain
    if not bare or any(c in bare for c in "/?#:@"):
        return None
    host = _host(f"https://{bare}/")
    if host is None or len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        return None
    return f"*.{host}" if wildcard else host


def is_allowed_destination(url: str, *, landing_url: str, allowed_domains: list[str]) -> bool:
    host = _host(url)
    if host is None:
        return False
    allowed = {_host(landing_url)} | {normalize_domain(d) for d in allowed_domains or []}
    allowed.discard(None)
    for entry in allowed:
        if entry.startswith("*."):
            if host == entry[2:] or host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False
