"""Shared helpers of the click tests: a link in network a, and a visit through the production WSGI app."""

import io
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import make_link, make_partnership, make_program


@dataclass
class Visit:
    status: int
    headers: dict
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def params(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def visit(path: str, *, query: str = "", ip: str = "203.0.113.7", method: str = "GET", **meta) -> Visit:
    """GET `path` through config.wsgi.application (the minimal /c/ handler in front of Django)."""
    from config.wsgi import application

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": ip,
               "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO(),
               "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", **meta}
    captured = {}

    def start_response(status, headers):
        captured["status"] = int(status[:3])
        captured["headers"] = dict(headers)

    body = b"".join(application(environ, start_response))
    return Visit(captured["status"], captured["headers"], body)


@pytest.fixture
def direct_clicks(settings):
    """No queue: every click is written directly (deterministic with and without REDIS_URL)."""
    from tracking import clicks

    settings.CLICK_QUEUE_URL = ""
    clicks.clear_local_cache()
    yield
    clicks.clear_local_cache()


@pytest.fixture
def program(world):
    return make_program(world.a.advertiser, landing_url="https://shop.example.com/start",
                        allowed_domains=["shop.example.com", "*.partner.test"], attribution_window_days=30)


@pytest.fixture
def link(world, program):
    return make_link(make_partnership(program, world.a.affiliate), sub1="blog")


def record_for(link, click_id, *, ip_hash="h1", user_agent="Mozilla/5.0 Firefox/140.0", sub1="", country=""):
    """A queued click record as the redirect makes it."""
    return {"click_id": click_id, "network_id": link.network_id, "program_id": link.program_id,
            "partnership_id": link.partnership_id, "link_id": link.id, "affiliate_id": link.affiliate_id,
            "sub1": sub1, "sub2": "", "sub3": "", "sub4": "", "sub5": "", "ip_hash": ip_hash,
            "ip_truncated": "203.0.113.0", "user_agent": user_agent, "referrer": "", "country": country,
            "device": "", "off_target": ""}


def partition_of(click_id: str) -> str:
    """The click's partition (tracking_click_pYYYYMMDD or the DEFAULT one), read from the row's tableoid."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM tracking_click WHERE click_id = %s", [click_id])
        name = cursor.fetchone()[0]
    # On Citus the row sits in a shard on a worker, named after its partition plus "_<shard id>".
    return re.sub(r"_\d+$", "", name) if settings.CITUS_URL else name
