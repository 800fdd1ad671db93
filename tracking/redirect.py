"""GET /c/<code>: the visitor-facing click redirect.

`click_redirect()` does the work on a WSGI-style `meta` dict; `wsgi_app` serves it before Django's
middleware (config.wsgi / config.asgi send /c/ here), `redirect_view` serves it through Django's URL map
(the test client, runserver). Warm path: no SQL (links and programs come from the in-process cache), one
queue write, never a 500.
"""

import logging
import time
from urllib.parse import parse_qsl

from network.hosts import domain_owner
from tracking import click_queue, clicks, targeting
from tracking.hotconf import conf
from tracking.ids import new_click_id

log = logging.getLogger(__name__)

NOT_FOUND = (404, [("Content-Type", "text/plain; charset=utf-8")], b"Not found.\n")
UNAVAILABLE = (503, [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "5")], b"Try again shortly.\n")
NO_STORE = ("Cache-Control", "no-store")


def _redirect(location: str, extra=()):
    headers = [("Location", location), NO_STORE, ("Content-Length", "0"), *extra]
    return 302, headers, b""


def _is_secure(meta, proxy) -> bool:
    if meta.get("wsgi.url_scheme") == "https":
        return True
    return bool(proxy) and meta.get(proxy[0]) == proxy[1]


def parse_query(raw: str) -> dict[str, str]:
    """`dict(parse_qsl(raw, keep_blank_values=True))`, without its per-piece unquoting when nothing is escaped
    (the usual click: `?sub1=abc`)."""
    if not raw:
        return {}
    if "%" in raw or "+" in raw:
        return dict(parse_qsl(raw, keep_blank_values=True))
    query = {}
    for piece in raw.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            query[name] = value
    return query


def serves_link(owner: dict, link: dict, program: dict) -> bool:
    """Whether a verified tracking domain answers for a link: its network's links only (an advertiser's domain:
    that advertiser's programs' only). The platform's own hosts answer for every network."""
    if link["network_id"] != owner["network_id"]:
        return False
    return owner["advertiser_id"] is None or program.get("advertiser_id") == owner["advertiser_id"]


def click_redirect(code: str, meta, *, buffered: bool = False) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for a visit of /c/<code>. `meta` is a WSGI environ (or request.META)."""
    hot = conf()
    method = meta.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        return 405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")], b"Method not allowed.\n"
    try:
        found = clicks.link_lookup(code)
    except Exception:
        log.exception("link lookup failed for a click")
        return UNAVAILABLE
    if found is None:
        return NOT_FOUND
    link, program = found
    try:
        owner = domain_owner(meta.get("HTTP_HOST", ""))
    except Exception:
        log.exception("tracking domain lookup failed for a click")
        return UNAVAILABLE
    if owner is not None and not serves_link(owner, link, program):
        return NOT_FOUND
    if program["status"] != "active" or not link["active"]:
        if program["status"] in ("paused", "active") and program["fallback_url"]:
            return _redirect(program["fallback_url"])
        return NOT_FOUND
    if (link.get("paused_until") or program.get("paused_until")) and clicks.caps_paused(link, program, time.time()):
        # Past a cap that pauses: no click, no click id, until the cap's period ends.
        return _redirect(program["fallback_url"] or program["landing_url"])

    query = parse_query(meta.get("QUERY_STRING", ""))
    subs = clicks.merge_subs(link["subs"], query)
    click_id = new_click_id()
    targeted = None
    rules = program.get("targeting")  # .get: entries cached before targeting existed have none
    if rules is not None:
        targeted = targeting.visit(meta, rules)
    if targeted is not None and targeted[2]:
        # Outside the targeting: recorded with its reason, sent on without a click id (nor a cookie), so the
        # merchant's site has nothing to credit; a conversion that names it anyway is rejected.
        location = clicks.ascii_url(program["fallback_url"] or program["landing_url"])
    else:
        try:
            location = clicks.destination(link, program, query.get("url"), click_id, subs)
        except Exception:
            log.exception("destination failed for link %s", link["link_id"])
            location = program["landing_url"]
    if method == "HEAD":
        # Link previews and monitors: same answer, no click recorded.
        return _redirect(location)
    try:
        record = clicks.click_record(link, click_id, subs, meta, targeted)
        if buffered and hot.CLICK_QUEUE_URL:
            click_queue.buffer.put(record)
        else:
            click_queue.enqueue(record)
    except Exception:
        log.exception("click %s not recorded", click_id)
    if targeted is not None and targeted[2]:
        return _redirect(location)
    max_age = program["cookie_max_age"]
    cookie = f"{hot.CLICK_COOKIE_NAME}={click_id}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax"
    if _is_secure(meta, hot.SECURE_PROXY_SSL_HEADER):
        cookie += "; Secure"
    return _redirect(location, [("Set-Cookie", cookie)])


def safe_click_redirect(code: str, meta, *, buffered: bool = False):
    """`click_redirect`, but an unexpected failure answers 503 (retry), never 500."""
    try:
        return click_redirect(code, meta, buffered=buffered)
    except Exception:
        log.exception("click redirect failed")
        return UNAVAILABLE


_REASONS = {302: "302 Found", 404: "404 Not Found", 405: "405 Method Not Allowed", 503: "503 Service Unavailable"}


def wsgi_app(environ, start_response):
    """The minimal WSGI handler of /c/<code> (no Django middleware: nothing here needs sessions or CSRF)."""
    code = environ.get("PATH_INFO", "")[3:].rstrip("/")
    status, headers, body = safe_click_redirect(code, environ, buffered=conf().CLICK_QUEUE_BUFFERED)
    if status != 302:
        headers = [*headers, ("Content-Length", str(len(body)))]
    start_response(_REASONS[status], headers)
    return [body]


def wsgi_dispatch(django_app):
    """`django_app` with /c/ served by `wsgi_app` first."""

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/c/"):
            return wsgi_app(environ, start_response)
        return django_app(environ, start_response)

    return application


def asgi_dispatch(django_app):
    """`django_app` (ASGI) with /c/ served by the same handler, run in a worker thread."""
    from asgiref.sync import sync_to_async

    run = sync_to_async(safe_click_redirect)  # thread-sensitive, as Django runs its own sync views

    async def application(scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/c/"):
            return await django_app(scope, receive, send)
        meta = {
            "REQUEST_METHOD": scope["method"],
            "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
            "REMOTE_ADDR": (scope.get("client") or ("", 0))[0],
            "wsgi.url_scheme": scope.get("scheme", "http"),
        }
        for name, value in scope.get("headers", []):
            meta["HTTP_" + name.decode("latin-1").upper().replace("-", "_")] = value.decode("latin-1")
        status, headers, body = await run(scope["path"][3:].rstrip("/"), meta, buffered=conf().CLICK_QUEUE_BUFFERED)
        if status != 302:
            headers = [*headers, ("Content-Length", str(len(body)))]
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
        await send({"type": "http.response.body", "body": body})

    return application


def redirect_view(request, code: str):
    """The same redirect through Django's URL map (the test client, runserver)."""
    from django.http import HttpResponse

    status, headers, body = safe_click_redirect(code, request.META)
    response = HttpResponse(body, status=status)
    for name, value in headers:
        if name != "Content-Length":
            response[name] = value
    return response
