"""SSRF guard for outbound calls: http(s) targets on public addresses only, pinned to the vetted address.

Checked when a URL is saved and again at each send, and the connection goes to the address that was
checked (no second DNS lookup), so a name that re-resolves to 127.0.0.1 (DNS rebinding) cannot slip through.
`settings.OUTBOUND_ALLOW_PRIVATE` lifts the address rule (local development, tests).
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class UnsafeURL(ValueError):
    """The URL may not be called: bad scheme, no host, or a private/loopback/reserved address."""


# What an address is that no webhook or postback may call, as the forms say it.
ADDRESS_KINDS = (
    ("is_loopback", gettext_lazy("%(address)s is a loopback address")),
    ("is_private", gettext_lazy("%(address)s is a private address")),
    ("is_link_local", gettext_lazy("%(address)s is a link-local address")),
    ("is_multicast", gettext_lazy("%(address)s is a multicast address")),
    ("is_reserved", gettext_lazy("%(address)s is a reserved address")),
    ("is_unspecified", gettext_lazy("%(address)s is an unspecified address")),
)


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return _("%(address)s is a site-local address") % {"address": address}
        # An IPv4 address inside an IPv6 one reaches that IPv4 host (mapped, or through a 6to4 relay).
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            problem = _address_problem(str(embedded))
            return _("%(address)s embeds %(problem)s") % {"address": address, "problem": problem} if problem else None
    for attribute, sentence in ADDRESS_KINDS:
        if getattr(ip, attribute):
            return sentence % {"address": address}
    if not ip.is_global:
        return _("%(address)s is not a public address") % {"address": address}
    return None


def to_uri_part(text: str) -> str:
    """A part of an IRI as URI text: non-ASCII characters percent-encoded as UTF-8 (RFC 3987 3.1)."""
    return text if text.isascii() else iri_to_uri(text)


def to_uri(url: str) -> str:
    """`url` as a URI: a non-ASCII host in IDNA ("xn--"), other non-ASCII characters percent-encoded. UnsafeURL
    for a host that is no domain name. An ASCII URL is returned as it is."""
    if not isinstance(url, str) or url.isascii():
        return url
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeURL(_("Not a valid URL.")) from exc
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UnsafeURL(_("The host is not a valid domain name.")) from exc
    netloc = to_uri_part(userinfo) + at + host + colon + port
    return to_uri_part(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def resolve_safe(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, vetted ip) for `url`, or UnsafeURL."""
    if not isinstance(url, str) or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        # urlsplit silently drops tabs and newlines, and http.client refuses spaces: neither is a URL to send.
        raise UnsafeURL(_("The URL contains spaces or control characters."))
    if not url.isascii():
        # Saved URLs are converted (to_uri); one that is not cannot be sent (http.client takes ASCII only).
        raise UnsafeURL(_("The URL has characters outside ASCII: save it again to have them encoded."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("Not a valid URL.")) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(_("Only http and https URLs are allowed."))
    host = parts.hostname
    if not host:
        raise UnsafeURL(_("The URL has no host."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(_("DNS failure: the host “%(host)s” does not resolve.") % {"host": host}) from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeURL(_("DNS failure: the host “%(host)s” does not resolve.") % {"host": host})
    if not settings.OUTBOUND_ALLOW_PRIVATE:
        for address in addresses:
            problem = _address_problem(address)
            if problem:
                raise UnsafeURL(_("Refused: %(host)s resolves to %(problem)s.") % {"host": host, "problem": problem})
    return parts.scheme, host, port, addresses[0]


def check_url(url: str) -> None:
    resolve_safe(url)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        # Certificate checked against the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Response:
    status_code: int
    body: bytes
    latency_ms: int


def request(method: str, url: str, *, body: bytes = b"", headers: dict | None = None,
            timeout: float | None = None) -> Response:
    """One HTTP request to a vetted address; redirects are not followed. Raises UnsafeURL or OSError."""
    scheme, host, port, ip = resolve_safe(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, ip, timeout or settings.OUTBOUND_TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body or None, headers={"User-Agent": "AffiliateNetwork-Webhooks/1.0",
                                                                     **(headers or {})})
        response = connection.getresponse()
        content = response.read(65536)
        return Response(response.status, content, int((time.perf_counter() - started) * 1000))
    except http.client.InvalidURL as exc:
        raise UnsafeURL(_("Not a valid URL: %(error)s") % {"error": exc}) from exc
    except http.client.HTTPException as exc:
        raise OSError(f"HTTP error: {exc}") from exc
    finally:
        connection.close()
