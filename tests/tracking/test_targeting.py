"""A program's targeting at the redirect: the country from the CDN's header or the offline IP table, the device
from the user agent; a click outside is recorded with its reason and sent on without a click id, and a
conversion that names it anyway earns nothing and says why."""

from datetime import timedelta

import pytest

from commissions.models import Commission
from programs.models import Program
from tests.factories import make_link, make_partnership, make_program
from tests.tracking import clicks_support
from tests.tracking.clicks_support import visit
from tests.tracking.conversions_support import post_conversion
from tracking import click_queue, clicks, ingest, targeting
from tracking.ids import is_click_id
from tracking.models import Click, Conversion

direct_clicks, program, link = clicks_support.direct_clicks, clicks_support.program, clicks_support.link
pytestmark = pytest.mark.usefixtures("direct_clicks")

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")
IPAD = ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
        "Mobile/15E148 Safari/604.1")
ANDROID_PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/120.0.0.0 Mobile Safari/537.36")
ANDROID_TABLET = ("Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
           "Safari/537.36")
MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
       "Safari/605.1.15")
# Public resolvers the registries allocated to the United States and a German publisher's address.
US_IP, DE_IP = "8.8.8.8", "193.99.144.80"


def _target(program, **targeting_):
    Program.objects.filter(pk=program.pk).update(targeting={
        "countries_allowed": [], "countries_blocked": [], "devices": []} | targeting_)
    clicks.clear_local_cache()
    clicks.forget_program(program.pk)


def _off_target(answer, expected_location):
    assert answer.status == 302
    assert answer.location == expected_location
    assert "click_id" not in answer.location and "sub1" not in answer.location
    assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize(("user_agent", "device"), [
    (IPHONE, "mobile"), (ANDROID_PHONE, "mobile"), (IPAD, "tablet"), (ANDROID_TABLET, "tablet"),
    (WINDOWS, "desktop"), (MAC, "desktop"), ("", "desktop"), ("curl/8.5.0", "desktop"),
])
def test_device_type_from_the_user_agent(user_agent, device):
    assert targeting.device_type(user_agent) == device


def test_country_from_the_offline_table():
    assert targeting.ip_country(US_IP) == "US"
    assert targeting.ip_country("2001:4860:4860::8888") == "US"
    assert targeting.ip_country(DE_IP) == "DE"
    assert targeting.ip_country("10.1.2.3") == "" and targeting.ip_country("not an address") == ""


def test_redirect_without_targeting_looks_nothing_up(link, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("looked up")

    monkeypatch.setattr(targeting, "visit", fail)
    answer = visit(f"/c/{link.code}", ip=US_IP, HTTP_USER_AGENT=IPHONE)
    assert answer.status == 302 and is_click_id(answer.params["click_id"])
    assert "Set-Cookie" in answer.headers
    click = Click.objects.get()
    assert (click.country, click.device, click.off_target) == ("", "", "")


def test_blocked_country_from_the_cdn_header_goes_to_the_fallback_url(program, link):
    Program.objects.filter(pk=program.pk).update(fallback_url="https://shop.example.com/elsewhere")
    _target(program, countries_blocked=["US"])
    answer = visit(f"/c/{link.code}", ip=DE_IP, HTTP_CF_IPCOUNTRY="US")
    _off_target(answer, "https://shop.example.com/elsewhere")
    click = Click.objects.get()
    assert (click.country, click.off_target) == ("US", "country_blocked")
    assert click.device == ""  # no device rule: the user agent is not parsed
    assert click.ip_truncated == "193.99.144.0" and click.ip_hash  # never the raw address
    assert not Click.objects.filter(ip_truncated=DE_IP).exists()


def test_country_outside_the_allowed_ones_from_the_ip_goes_to_the_landing_page_without_click_id(program, link):
    _target(program, countries_allowed=["DE", "AT"])
    _off_target(visit(f"/c/{link.code}", ip=US_IP), "https://shop.example.com/start")
    click = Click.objects.get()
    assert (click.country, click.off_target) == ("US", "country_not_allowed")


def test_allowed_country_from_the_ip_gets_its_click_id(program, link):
    _target(program, countries_allowed=["DE"])
    answer = visit(f"/c/{link.code}", ip=DE_IP)
    assert answer.location.startswith("https://shop.example.com/start?click_id=")
    click = Click.objects.get(click_id=answer.params["click_id"])
    assert (click.country, click.off_target) == ("DE", "")
    assert answer.headers["Set-Cookie"].startswith(f"afn_click={click.click_id};")


def test_the_cdn_header_wins_over_the_ip_table(program, link):
    _target(program, countries_allowed=["DE"])
    assert "click_id" in visit(f"/c/{link.code}", ip=US_IP, HTTP_CF_IPCOUNTRY="de").params
    assert Click.objects.get().country == "DE"


def test_unknown_country_is_outside_an_allow_list_but_not_a_block_list(program, link):
    _target(program, countries_allowed=["DE"])
    _off_target(visit(f"/c/{link.code}", ip="10.0.0.7"), "https://shop.example.com/start")
    _target(program, countries_blocked=["US"])
    assert "click_id" in visit(f"/c/{link.code}", ip="10.0.0.7").params
    assert list(Click.objects.order_by("click_id").values_list("country", "off_target")) == [
        ("", "country_not_allowed"), ("", "")]


@pytest.mark.parametrize(("user_agent", "device", "on_target"), [
    (WINDOWS, "desktop", True), (IPHONE, "mobile", False), (ANDROID_TABLET, "tablet", True), (IPAD, "tablet", True),
])
def test_device_rule(program, link, user_agent, device, on_target):
    _target(program, devices=["desktop", "tablet"])
    answer = visit(f"/c/{link.code}", HTTP_USER_AGENT=user_agent)
    assert ("click_id" in answer.params) is on_target
    click = Click.objects.get()
    assert (click.device, click.off_target) == (device, "" if on_target else "device_not_allowed")


def test_head_request_answers_the_same_and_records_nothing(program, link):
    _target(program, countries_blocked=["US"])
    _off_target(visit(f"/c/{link.code}", ip=US_IP, method="HEAD"), "https://shop.example.com/start")
    assert not Click.objects.exists()


def test_queued_off_target_click_keeps_its_reason(program, link):
    """The queue's entries carry the device and the reason to the ingester (which batches them)."""
    _target(program, devices=["desktop"])
    looked_up = clicks.link_lookup(link.code)
    record = clicks.click_record(looked_up[0], "01JCZ3NDEKTSV4RRFFQ69G5FAV", looked_up[0]["subs"],
                                 {"REMOTE_ADDR": US_IP, "HTTP_USER_AGENT": IPHONE},
                                 ("US", "mobile", "device_not_allowed"))
    decoded = click_queue.decode(click_queue.encode([record]))
    assert ingest.ingest_records(decoded).inserted == 1
    click = Click.objects.get()
    assert (click.country, click.device, click.off_target) == ("US", "mobile", "device_not_allowed")
    assert US_IP not in str(decoded)


def test_old_cached_program_entry_without_targeting_still_redirects(program, link):
    looked_up = clicks.link_lookup(link.code)
    clicks._local_programs.set(program.pk, {k: v for k, v in looked_up[1].items() if k != "targeting"})
    assert "click_id" in visit(f"/c/{link.code}").params


def test_paused_targeted_program_still_answers_its_fallback(program, link):
    Program.objects.filter(pk=program.pk).update(status="paused", fallback_url="https://shop.example.com/paused")
    _target(program, countries_allowed=["DE"])
    assert visit(f"/c/{link.code}", ip=US_IP).location == "https://shop.example.com/paused"
    assert not Click.objects.exists()


@pytest.fixture
def targeted_shop(world):
    program = make_program(world.a.advertiser, name="DE only", landing_url="https://shop.example.com/",
                           fraud_policy=Program.FraudPolicy.RECORD, targeting={"countries_allowed": ["DE"]})
    return make_link(make_partnership(program, world.a.affiliate), sub1="fb")


def _click_now(link, **fields):
    from tests.tracking.conversions_support import click_at

    return click_at(link, ago=timedelta(minutes=10), **fields)


def test_conversion_of_an_off_target_click_earns_nothing_and_says_why(world, targeted_shop,
                                                                      django_capture_on_commit_callbacks):
    visit(f"/c/{targeted_shop.code}", ip=US_IP)
    click = Click.objects.get()
    assert click.off_target == "country_not_allowed"
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_conversion(world.a.client("advertiser"), order_id="OFF-1", click_id=click.click_id)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "rejected" and body["fraud_signals"][0] == "off_target"
    conversion = Conversion.objects.get(order_id="OFF-1")
    assert conversion.affiliate_id == targeted_shop.affiliate_id  # attributed, and visible as such
    assert conversion.signal_details[0] == {"code": "off_target", "reason": "country_not_allowed", "country": "US",
                                            "device": ""}
    commission = Commission.objects.get(conversion=conversion)
    assert commission.status == Commission.Status.REJECTED
    assert commission.reason.startswith("Outside the program's targeting: The click came from United States (US)")
    explained = world.a.client("affiliate").get(f"/api/v1/commissions/{commission.pk}").json()["explanation"]
    assert explained["attribution"]["off_target"]["reason"] == "country_not_allowed"
    assert "not one of the countries the program allows" in explained["attribution"]["off_target"]["text"]
    assert "off_target" in explained["click"]["signals"]


def test_conversion_of_an_on_target_click_is_paid_as_before(world, targeted_shop, django_capture_on_commit_callbacks):
    click = _click_now(targeted_shop, country="DE", device="")
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_conversion(world.a.client("advertiser"), order_id="ON-1", click_id=click.click_id)
    assert answer.json()["status"] == "accepted" and answer.json()["fraud_signals"] == []
    commission = Commission.objects.get(conversion__order_id="ON-1")
    assert commission.status == Commission.Status.PENDING and commission.amount > 0


def test_off_target_click_is_rejected_whatever_the_fraud_policy(world, targeted_shop,
                                                                django_capture_on_commit_callbacks):
    Program.objects.filter(pk=targeted_shop.program_id).update(fraud_policy=Program.FraudPolicy.HOLD)
    click = _click_now(targeted_shop, country="", device="mobile", off_target="device_not_allowed")
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_conversion(world.a.client("advertiser"), order_id="OFF-2", click_id=click.click_id)
    assert answer.json()["status"] == "rejected"
    assert Commission.objects.get(conversion__order_id="OFF-2").status == Commission.Status.REJECTED


def test_off_target_reason_on_the_advertisers_conversion_page(world, targeted_shop, web):
    click = _click_now(targeted_shop, country="US", off_target="country_not_allowed")
    post_conversion(world.a.client("advertiser"), order_id="OFF-3", click_id=click.click_id)
    conversion = Conversion.objects.get(order_id="OFF-3")
    page = web("a", "advertiser").get(f"/advertiser/conversions/{conversion.pk}/")
    assert page.status_code == 200
    assert "The click came from United States (US), not one of the countries the program allows" in (
        page.content.decode())



def test_off_target_clicks_are_counted_but_never_unique(program, link):
    """Unique clicks are what CPC pays on: an off-target click is in `clicks`, not in `unique_clicks`."""
    from tracking.models import ClickDay, ClickRollup

    _target(program, countries_blocked=["US"])
    visit(f"/c/{link.code}", ip=US_IP)
    visit(f"/c/{link.code}", ip=DE_IP)
    rollups = {row.country: (row.clicks, row.unique_clicks) for row in ClickRollup.objects.all()}
    assert rollups == {"US": (1, 0), "DE": (1, 1)}
    days = ClickDay.objects.filter(program_id=program.pk)
    assert sum(day.clicks for day in days) == 2 and sum(day.unique_clicks for day in days) == 1


def test_a_non_ascii_landing_url_is_sent_as_ascii(program, link):
    Program.objects.filter(pk=program.pk).update(landing_url="https://bücher.example/straße?q=ä")
    _target(program, devices=["mobile"])
    assert visit(f"/c/{link.code}").location == "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4"
