"""Open-redirect-safe deep links and allowed-domain normalisation."""

import pytest

from programs.deeplinks import is_allowed_destination, normalize_domain

LANDING = "https://shop.example.com/landing"
ALLOWED = ["*.partner.test", "blog.example.org", "bücher.test"]


@pytest.mark.parametrize("url", [
    "https://shop.example.com/p/1?color=red",
    "http://shop.example.com",
    "https://SHOP.Example.com/upper",
    "https://shop.example.com./trailing-dot",
    "https://shop.example.com:8443/port",
    "https://partner.test/apex-of-wildcard",
    "https://a.b.partner.test/deep",
    "https://blog.example.org/post",
    "https://bücher.test/unicode-host",
    "https://xn--bcher-kva.test/punycode-host",
])
def test_allowed_destinations(url):
    assert is_allowed_destination(url, landing_url=LANDING, allowed_domains=ALLOWED)


@pytest.mark.parametrize("url", [
    "",
    None,
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://shop.example.com/file",
    "//evil.test/shop.example.com",
    "///evil.test",
    "https:///shop.example.com",
    "shop.example.com/no-scheme",
    "https://evil.test/",
    "https://shop.example.com@evil.test/",
    "https://user:pw@shop.example.com/",
    "https://evil.test\\@shop.example.com/",
    "https://shop.example.com\\evil.test/",
    "https://shop.example.com.evil.test/",
    "https://evilpartner.test/",
    "https://partner.test.evil.test/",
    "https://sub.blog.example.org/",
    "https://shоp.example.com/cyrillic-o",
    "https://xn--shp-8cd.example.com/",
    " https://shop.example.com/leading-space",
    "https://shop.example.com/\nSet-Cookie:x",
    "https://shop.example.com:99999/",
    "https://shop.example.com/" + "a" * 2100,
])
def test_refused_destinations(url):
    assert not is_allowed_destination(url, landing_url=LANDING, allowed_domains=ALLOWED)


def test_only_the_landing_host_is_allowed_without_allowed_domains():
    assert is_allowed_destination("https://shop.example.com/x", landing_url=LANDING, allowed_domains=[])
    assert not is_allowed_destination("https://www.shop.example.com/x", landing_url=LANDING, allowed_domains=[])


def test_a_plain_domain_does_not_allow_its_subdomains():
    assert not is_allowed_destination("https://www.blog.example.org/", landing_url=LANDING,
                                      allowed_domains=["blog.example.org"])


@pytest.mark.parametrize(("raw", "expected"), [
    ("Shop.Test", "shop.test"),
    ("  shop.test.  ", "shop.test"),
    ("*.Shop.Test", "*.shop.test"),
    ("bücher.test", "xn--bcher-kva.test"),
    ("*.bücher.test", "*.xn--bcher-kva.test"),
])
def test_normalize_domain(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "*.", "*", None, 42, "https://shop.test", "shop.test/path", "user@shop.test", "shop.test:80",
    "shop test", "shop.test?x", "shop.test#x", "sh\\op.test", "*.*.shop.test",
])
def test_normalize_domain_refuses_what_is_not_a_host(raw):
    assert normalize_domain(raw) is None
