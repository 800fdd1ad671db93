"""Open redirect: `/c/<code>?url=...` through the production WSGI application. A deep link goes only to a host
the program allows; every trick below lands on the program's landing URL instead (never the other host)."""

from urllib.parse import quote, urlsplit

import pytest

from tests.tracking import clicks_support
from tests.tracking.clicks_support import visit

direct_clicks, program, link = clicks_support.direct_clicks, clicks_support.program, clicks_support.link
pytestmark = pytest.mark.usefixtures("direct_clicks")
LANDING = "https://shop.example.com/start?click_id="  # the program of clicks_support: shop.example.com, *.partner.test

REFUSED = [
    # hosts outside the allow-list
    "https://evil.test/", "http://evil.test", "https://shop.example.com.evil.test/", "https://evilshop.example.com/",
    "https://example.com/", "https://partner.test.evil.test/", "https://evilpartner.test/",
    # schemes
    "javascript:alert(1)", "JavaScript:alert(document.domain)//https://shop.example.com/",
    "data:text/html,<script>alert(1)</script>", "ftp://shop.example.com/file", "file:///etc/passwd",
    "vbscript:msgbox(1)", "mailto:a@shop.example.com", "about:blank", "blob:https://shop.example.com/x",
    # scheme-relative and path-only
    "//evil.test", "//evil.test/path", "///evil.test", "////evil.test", "/\\evil.test", "\\\\evil.test",
    "/relative/path", "shop.example.com/path", "https:evil.test", "https:/evil.test", "https:///evil.test",
    # credentials (userinfo) and @ tricks
    "https://shop.example.com@evil.test/", "https://shop.example.com:443@evil.test/",
    "https://user:pw@shop.example.com/", "https://evil.test@shop.example.com/", "https://@shop.example.com/",
    "https://shop.example.com%40evil.test/", "https://evil.test%2F@shop.example.com/",
    # backslashes (browsers read them as slashes)
    "https://evil.test\\@shop.example.com/", "https:\\\\evil.test", "https://evil.test\\.shop.example.com/",
    "https://shop.example.com\\@evil.test/",
    # encoded separators inside the host
    "https://evil.test%2F.shop.example.com/", "https://evil.test%5C.shop.example.com/",
    "https://evil.test%2f%2f.shop.example.com/", "https:%2F%2Fevil.test", "https%3A%2F%2Fevil.test",
    "%2F%2Fevil.test", "https://evil.test%00.shop.example.com/", "https://evil.test%23.shop.example.com/",
    "https://evil.test%3F.shop.example.com/",
    # ... and against the wildcard entry *.partner.test, where a suffix match alone would let them through
    "https://evil.test%2F.partner.test/", "https://evil.test%5C.partner.test/", "https://evil.test%00.partner.test/",
    "https://evil.test%23.partner.test/", "https://evil.test%3F.partner.test/", "https://evil.test%40.partner.test/",
    "https://evil.test%252F.partner.test/", "https://evil.test_.partner.test/", "https://evil.test!.partner.test/",
    "https://evil.test$.partner.test/", "https://evil.test,.partner.test/", "https://evil.test;.partner.test/",
    # IDN homographs and punycode of other hosts
    "https://shоp.example.com/",  # Cyrillic о
    "https://xn--shp-qma.example.com/", "https://shóp.example.com/", "https://ｅｖｉｌ.test/",
    "https://shop.exаmple.com/",  # Cyrillic а
    "https://xn--80ak6aa92e.com/",
    # trailing dots and odd hosts elsewhere
    "https://evil.test./", "https://evil.test..", "https://[::1]/", "https://127.0.0.1/", "https://2130706433/",
    # ports on another host, bad ports
    "https://evil.test:443/", "https://shop.example.com:99999/", "https://shop.example.com:-1/",
    "https://shop.example.com:port/",
    # whitespace and control characters
    " https://evil.test", "\thttps://evil.test", "https://evil.test\n.shop.example.com/", "java\nscript:alert(1)",
    "https://shop.example.com\r\nLocation: https://evil.test", "\x00https://evil.test", "https://evil .test/",
    "https://shop.example.com/\x7f", "\u200bhttps://evil.test", "https://evil.test\u3000.shop.example.com",
    # uppercase and mixed schemes to other hosts
    "HTTPS://EVIL.TEST/", "HtTpS://evil.test/", "JAVASCRIPT:alert(1)",
    # empty and overlong
    "", " ", "https://", "https://shop.example.com/" + "a" * 2100,
]

ALLOWED = [
    ("https://shop.example.com/item/5", "shop.example.com"),
    ("http://shop.example.com/", "shop.example.com"),
    ("HTTPS://SHOP.EXAMPLE.COM/x", "SHOP.EXAMPLE.COM"),
    ("https://shop.example.com./x", "shop.example.com."),  # the same host, fully qualified
    ("https://shop.example.com:8443/x", "shop.example.com"),  # a port on an allowed host stays on that host
    ("https://www.partner.test/landing", "www.partner.test"),
    ("https://a.b.partner.test/", "a.b.partner.test"),
    ("https://partner.test/", "partner.test"),
    ("https://shop.example.com/path?next=https://evil.test/", "shop.example.com"),  # evil only in the query
    ("https://shop.example.com/%2F%2Fevil.test", "shop.example.com"),
]


@pytest.mark.parametrize("url", REFUSED)
def test_disallowed_deep_link_goes_to_the_landing_url(link, url):
    answer = visit(f"/c/{link.code}", query=f"url={quote(url, safe='')}")
    assert answer.status == 302
    assert answer.location.startswith(LANDING), answer.location
    assert "evil" not in urlsplit(answer.location).netloc.lower()


@pytest.mark.parametrize("url", REFUSED[:12])
def test_disallowed_deep_link_raw_in_the_query_string_goes_to_the_landing_url(link, url):
    """Unencoded in the query string (as a hand-written link would carry it)."""
    answer = visit(f"/c/{link.code}", query=f"url={url}")
    assert answer.status == 302
    assert answer.location.startswith(LANDING), answer.location


@pytest.mark.parametrize(("url", "host"), ALLOWED)
def test_allowed_deep_link_is_followed(link, url, host):
    answer = visit(f"/c/{link.code}", query=f"url={quote(url, safe='')}")
    assert answer.status == 302
    assert urlsplit(answer.location).hostname == host.lower().rstrip(".") or \
        urlsplit(answer.location).netloc.lower().startswith(host.lower())
    assert "click_id=" in answer.location


@pytest.mark.parametrize("url", ["https://evil.test/", "//evil.test", "javascript:alert(1)",
                                 "https://shop.example.com@evil.test/", "https://evil.test%2F.shop.example.com/"])
def test_links_api_refuses_the_same_destinations(world, program, url):
    from tests.factories import make_partnership

    make_partnership(program, world.a.affiliate2)
    response = world.a.client("affiliate2").post("/api/v1/links", {"program": program.pk, "url": url}, format="json")
    assert response.status_code == 400 and "url" in response.json()


@pytest.mark.parametrize("url", ["https://evil.test/", "https://shop.example.com.evil.test/"])
def test_unknown_code_with_a_deep_link_redirects_nowhere(world, url):
    answer = visit("/c/unknown1", query=f"url={quote(url, safe='')}")
    assert answer.status == 404 and "Location" not in answer.headers
