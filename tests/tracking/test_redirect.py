import hashlib
import hmac
import ipaddress

import pytest
from django.conf import settings

from programs.models import Partnership, Program
from tests.factories import make_link, make_partnership, make_program
from tests.tracking import clicks_support
from tests.tracking.clicks_support import visit
from tracking import click_queue, clicks
from tracking.ids import click_id_time, is_click_id
from tracking.models import Click

direct_clicks, program, link = clicks_support.direct_clicks, clicks_support.program, clicks_support.link
pytestmark = pytest.mark.usefixtures("direct_clicks")


def test_redirect_sends_visitor_to_landing_url_with_click_id_and_subs(link):
    answer = visit(f"/c/{link.code}", query="sub2=spring&sub3=")
    assert answer.status == 302
    assert answer.location.startswith("https://shop.example.com/start?click_id=")
    params = answer.params
    assert is_click_id(params["click_id"])
    assert params["sub1"] == "blog" and params["sub2"] == "spring" and "sub3" not in params
    click = Click.objects.get()
    assert click.click_id == params["click_id"]
    assert click.created_at == click_id_time(click.click_id)
    assert (click.link_id, click.program_id, click.affiliate_id, click.partnership_id, click.network_id) == (
        link.id, link.program_id, link.affiliate_id, link.partnership_id, link.network_id)
    assert (click.sub1, click.sub2, click.sub3) == ("blog", "spring", "")
    assert click.is_unique and not click.is_bot
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"afn_click={click.click_id};")
    assert "Max-Age=2592000" in cookie and "SameSite=Lax" in cookie
    assert answer.headers["Cache-Control"] == "no-store"


def test_query_sub_id_overrides_the_links_own(link):
    assert visit(f"/c/{link.code}", query="sub1=newsletter").params["sub1"] == "newsletter"
    assert Click.objects.get().sub1 == "newsletter"


def test_destination_keeps_its_own_query_and_fragment(world, program):
    program.landing_url = "https://shop.example.com/p?a=1&b=x%20y&sub1=theirs&flag#top"
    program.save()
    link = make_link(make_partnership(program, world.a.affiliate2), sub1="ours")
    location = visit(f"/c/{link.code}").location
    base, fragment = location.split("#")
    assert fragment == "top"
    assert base.startswith("https://shop.example.com/p?a=1&b=x%20y&flag&click_id=")
    assert base.endswith("&sub1=ours")


def test_links_own_deep_link_is_the_default_destination(world, program):
    link = make_link(make_partnership(program, world.a.affiliate2), destination_url="https://shop.example.com/sale")
    assert visit(f"/c/{link.code}").location.startswith("https://shop.example.com/sale?click_id=")


@pytest.mark.parametrize("url", [
    "https://shop.example.com/item/5?color=red",
    "https://www.partner.test/landing",
    "https://partner.test/",
])
def test_allowed_url_parameter_is_followed(link, url):
    location = visit(f"/c/{link.code}", query=f"url={url.replace('?', '%3F').replace('=', '%3D')}").location
    assert location.startswith(url)
    assert "click_id=" in location


@pytest.mark.parametrize("url", [
    "https://evil.test/",
    "//evil.test/",
    "https://shop.example.com@evil.test/",
    "https://user:pw@shop.example.com/",
    "https://evil.test\\@shop.example.com/",
    "https:\\\\evil.test",
    "javascript:alert(1)",
    "https://shop.example.com.evil.test/",
    "https://xn--shp-qma.example.com/",
    "https://shóp.example.com/",
])
def test_url_parameter_outside_the_allow_list_is_ignored(link, url):
    from urllib.parse import quote

    answer = visit(f"/c/{link.code}", query=f"url={quote(url, safe='')}")
    assert answer.status == 302
    assert answer.location.startswith("https://shop.example.com/start?click_id=")


@pytest.mark.parametrize("code", ["nope", "..%2Fx", "a" * 40, "", "bad code"])
def test_unknown_or_malformed_code_is_404(world, code):
    answer = visit(f"/c/{code}")
    assert answer.status == 404
    assert Click.objects.count() == 0


def test_archived_link_is_404(link):
    link.archived = True
    link.save()
    assert visit(f"/c/{link.code}").status == 404


@pytest.mark.parametrize("status", [Program.Status.DRAFT, Program.Status.ARCHIVED])
def test_draft_or_archived_program_is_404_even_with_a_fallback(link, program, status):
    program.status = status
    program.fallback_url = "https://shop.example.com/closed"
    program.save()
    assert visit(f"/c/{link.code}").status == 404


def test_paused_program_sends_to_its_fallback_url_without_a_click(link, program):
    visit(f"/c/{link.code}")  # warm the cache: the save below must invalidate it
    program.status = Program.Status.PAUSED
    program.fallback_url = "https://shop.example.com/closed"
    program.save()
    answer = visit(f"/c/{link.code}")
    assert (answer.status, answer.location) == (302, "https://shop.example.com/closed")
    assert "Set-Cookie" not in answer.headers
    assert Click.objects.count() == 1


def test_paused_program_without_fallback_is_404(link, program):
    program.status = Program.Status.PAUSED
    program.save()
    assert visit(f"/c/{link.code}").status == 404


def test_suspended_partnership_tracks_nothing(link):
    visit(f"/c/{link.code}")
    Partnership.objects.filter(pk=link.partnership_id).update(status="suspended")
    link.partnership.refresh_from_db()
    link.partnership.save()  # the save signal drops the cached link
    assert visit(f"/c/{link.code}").status == 404


def test_head_redirects_without_recording_and_post_is_refused(link):
    assert visit(f"/c/{link.code}", method="HEAD").status == 302
    assert visit(f"/c/{link.code}", method="POST").status == 405
    assert Click.objects.count() == 0


def test_warm_path_runs_no_sql(link, monkeypatch, django_assert_num_queries):
    queued = []
    monkeypatch.setattr(click_queue, "enqueue", queued.append)
    visit(f"/c/{link.code}")  # cold: reads the link and program once
    with django_assert_num_queries(0):
        answer = visit(f"/c/{link.code}", query="sub2=x")
    assert answer.status == 302 and len(queued) == 2
    assert queued[1]["click_id"] == answer.params["click_id"]


def test_link_cache_survives_in_the_shared_cache(link, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(click_queue, "enqueue", lambda record: None)
    visit(f"/c/{link.code}")
    clicks.clear_local_cache()  # another process: only the shared cache is warm
    with django_assert_num_queries(0):
        assert visit(f"/c/{link.code}").status == 302


def test_no_raw_ip_is_stored_only_its_keyed_hash_and_network(link):
    for ip, truncated in [("198.51.100.23", "198.51.100.0"), ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::")]:
        visit(f"/c/{link.code}", ip=ip)
        click = Click.objects.order_by("-id").first()
        row = " ".join(str(getattr(click, f.attname)) for f in Click._meta.concrete_fields)
        assert ip not in row and ip.split(":")[-1] not in row.split()
        assert click.ip_truncated == truncated
        packed = ipaddress.ip_address(ip).packed
        assert click.ip_hash == hmac.new(settings.IP_HASH_KEY.encode(), packed, hashlib.sha256).hexdigest()


def test_forwarded_for_is_used_only_behind_a_trusted_proxy(link, settings):
    visit(f"/c/{link.code}", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert Click.objects.get().ip_truncated == "10.0.0.0"
    settings.TRUSTED_PROXY_COUNT = 1
    visit(f"/c/{link.code}", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert Click.objects.order_by("-id").first().ip_truncated == "198.51.100.0"


@pytest.mark.parametrize(("header", "country"), [("de", "DE"), ("XX", ""), ("T1", ""), ("DEU", "")])
def test_country_comes_from_the_cdn_header(link, header, country):
    visit(f"/c/{link.code}", HTTP_CF_IPCOUNTRY=header, HTTP_REFERER="https://blog.test/post")
    click = Click.objects.get()
    assert click.country == country and click.referrer == "https://blog.test/post"


def test_queue_down_still_redirects_and_records_the_click(link, settings):
    settings.CLICK_QUEUE_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CLICK_QUEUE_BUFFERED = False
    click_queue.reset_breakers()
    answer = visit(f"/c/{link.code}")
    assert answer.status == 302
    assert Click.objects.get().click_id == answer.params["click_id"]


def test_queue_and_database_down_still_redirects(link, settings, monkeypatch, caplog):
    settings.CLICK_QUEUE_URL = "redis://127.0.0.1:1/0"
    settings.CLICK_QUEUE_BUFFERED = False

    def broken(records):
        raise RuntimeError("database down")

    monkeypatch.setattr("tracking.ingest.ingest_records", broken)
    answer = visit(f"/c/{link.code}")
    assert answer.status == 302 and "click_id=" in answer.location
    assert "click lost" in caplog.text
    assert Click.objects.count() == 0


def test_django_route_answers_the_same(client, link):
    response = client.get(f"/c/{link.code}?sub2=x")
    assert response.status_code == 302
    assert response["Location"].startswith("https://shop.example.com/start?click_id=")
    assert Click.objects.get().sub2 == "x"
    assert client.get("/c/unknown").status_code == 404


def test_other_networks_link_is_not_confused(world, link):
    other = make_program(world.b.advertiser, landing_url="https://b-shop.test/")
    b_link = make_link(make_partnership(other, world.b.affiliate))
    assert visit(f"/c/{b_link.code}").location.startswith("https://b-shop.test/?click_id=")
    assert Click.objects.get().network_id == world.b.network.id


@pytest.mark.django_db(transaction=True)
def test_buffered_writer_falls_back_to_the_database_when_the_queue_is_down(link, settings):
    settings.CLICK_QUEUE_URL = "redis://127.0.0.1:1/0"
    settings.CLICK_QUEUE_BUFFERED = True
    click_queue.reset_breakers()
    answers = [visit(f"/c/{link.code}", ip=f"198.51.100.{i}") for i in range(5)]
    assert all(a.status == 302 for a in answers)
    assert click_queue.buffer.flush()
    assert set(Click.objects.values_list("click_id", flat=True)) == {a.params["click_id"] for a in answers}


def test_unexpected_failure_answers_503_not_500(link, monkeypatch):
    def broken(code):
        raise RuntimeError("cache and database down")

    monkeypatch.setattr(clicks, "link_lookup", broken)
    assert visit(f"/c/{link.code}").status == 503


def test_wsgi_entry_point_still_serves_django_elsewhere(db):
    from django.core.signals import request_started
    from django.db import close_old_connections

    # As Django's test client does: keep the test's transaction open across the request.
    request_started.disconnect(close_old_connections)
    try:
        answer = visit("/healthz")
    finally:
        request_started.connect(close_old_connections)
    assert answer.status == 200 and b'"ok"' in answer.body


def test_asgi_entry_point_serves_the_redirect(link):
    from asgiref.sync import async_to_sync

    from config.asgi import application

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": f"/c/{link.code}", "query_string": b"sub2=asgi",
             "headers": [(b"user-agent", b"Mozilla/5.0 Firefox/140.0")], "client": ("198.51.100.5", 5000),
             "scheme": "https"}
    async_to_sync(application)(scope, receive, send)
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 302
    assert headers[b"location"].startswith(b"https://shop.example.com/start?click_id=")
    assert headers[b"set-cookie"].endswith(b"; Secure")
    click = Click.objects.get()
    assert (click.sub2, click.ip_truncated) == ("asgi", "198.51.100.0")


def test_beat_runs_ingestion_partitions_and_retention():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"tracking.tasks_clicks.clicks_ingest", "tracking.tasks_clicks.click_partitions_ensure",
            "tracking.tasks_clicks.clicks_retention_purge"} <= tasks
