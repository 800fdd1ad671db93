"""Rate limits: per API key on the API, a separate high-volume scope for the conversion postback (both of its
paths), per client address without a key, and allauth's failed-login limit."""

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.test import Client, override_settings

from tests.conftest import api_client
from tests.tracking.conversions_support import make_shop, post_conversion
from tests.tracking.test_conversions_fast import no_connection_closing  # noqa: F401  (a fixture)
from tracking.models import Conversion


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert "throttled" in response.json()["detail"].lower()
    assert 1 <= int(response["Retry-After"]) <= 60


@override_settings(API_THROTTLE_RATE="5/min")
def test_api_key_is_throttled_past_its_rate_and_other_keys_are_not(world):
    owner = world.a.client("owner")
    for _ in range(5):
        assert owner.get("/api/v1/me").status_code == 200
    assert_throttled(owner.get("/api/v1/me"))
    assert_throttled(owner.get("/api/v1/programs"))  # every endpoint shares the key's budget
    # Another key of the same network, and a key of another network, still answer.
    assert world.a.client("advertiser").get("/api/v1/me").status_code == 200
    assert world.a.client("staff").get("/api/v1/me").status_code == 200
    assert world.b.client("owner").get("/api/v1/me").status_code == 200


@override_settings(API_THROTTLE_RATE="3/min")
def test_two_keys_of_one_membership_are_counted_separately(world):
    from network.services import api_key_create

    second = api_client(api_key_create(membership=world.a.owner, name="ci").raw)
    first = world.a.client("owner")
    for _ in range(3):
        assert first.get("/api/v1/me").status_code == 200
    assert_throttled(first.get("/api/v1/me"))
    assert second.get("/api/v1/me").status_code == 200


@override_settings(API_THROTTLE_RATE="2/min", CONVERSION_THROTTLE_RATE="4/min")
def test_conversion_postback_has_its_own_scope(world):
    make_shop(world.a)
    advertiser = world.a.client("advertiser")
    # The postback does not spend the API budget (2/min): four conversions pass, through the full view and
    # the fast path (the key's first use goes to the full view, the next ones take the fast path).
    for n in range(4):
        assert post_conversion(advertiser, order_id=f"T-{n}").status_code == 201
    answer = post_conversion(advertiser, order_id="T-over")
    assert_throttled(answer)
    assert not Conversion.objects.filter(order_id="T-over").exists()
    # The API budget is untouched by the postbacks, and another advertiser's postbacks go on.
    assert advertiser.get("/api/v1/me").status_code == 200
    make_shop(world.b)
    assert post_conversion(world.b.client("advertiser"), order_id="B-1").status_code == 201


@override_settings(CONVERSION_THROTTLE_RATE="2/min")
@pytest.mark.usefixtures("no_connection_closing")
def test_fast_path_refusal_is_answered_429_once_by_the_full_view(world):
    """Through the WSGI application with the fast path in front: the fast path counts the request and leaves
    its verdict; the full view answers the 429 without counting it again."""
    from django.core.wsgi import get_wsgi_application

    from tracking.postback_fast import FastPostbackMiddleware

    application = FastPostbackMiddleware(get_wsgi_application())

    make_shop(world.a)

    def post(order_id):
        body = json.dumps({"order_id": order_id, "amount": "10.00", "currency": "EUR"}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/conversions", "QUERY_STRING": "",
                   "REMOTE_ADDR": "198.51.100.4", "SERVER_NAME": "testserver", "SERVER_PORT": "80",
                   "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                   "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/json",
                   "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {world.a.advertiser_key}"}
        captured = {}

        def start_response(status, headers):
            captured["status"], captured["headers"] = int(status[:3]), dict(headers)

        content = b"".join(application(environ, start_response))
        return captured["status"], captured["headers"], content

    assert post("W-0")[0] == 201  # the key's first use: the full view (it marks the key used)
    assert post("W-1")[0] == 201  # the fast path
    status, headers, content = post("W-2")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert "throttled" in json.loads(content)["detail"].lower()
    assert set(Conversion.objects.values_list("order_id", flat=True)) == {"W-0", "W-1"}


@override_settings(CONVERSION_THROTTLE_RATE="1/min", API_THROTTLE_RATE="100/min")
def test_other_conversion_actions_use_the_api_scope(world):
    advertiser = world.a.client("advertiser")
    for _ in range(3):
        assert advertiser.get("/api/v1/conversions").status_code == 200


@override_settings(ANON_THROTTLE_RATE="3/min")
def test_anonymous_calls_are_throttled_per_address(db):
    first, second = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    for _ in range(3):
        assert first.get("/api/v1/conversions/pixel?token=nope").status_code == 403
    answer = first.get("/api/v1/conversions/pixel?token=nope")
    assert_throttled(answer)
    assert second.get("/api/v1/conversions/pixel?token=nope").status_code == 403


@override_settings(ANON_THROTTLE_RATE="2/min", TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_forwarded_address_is_counted(db):
    # A cheap anonymous call (the pixel with a wrong token): three schema renders could outlast the minute on a
    # loaded machine, and the first would leave the window.
    proxy = Client(REMOTE_ADDR="10.0.0.5")
    pixel = "/api/v1/conversions/pixel?token=nope"
    for _ in range(2):
        assert proxy.get(pixel, HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 403
    assert_throttled(proxy.get(pixel, HTTP_X_FORWARDED_FOR="198.51.100.9"))
    assert proxy.get(pixel, HTTP_X_FORWARDED_FOR="198.51.100.10").status_code == 403


def test_throttle_cache_keys_hold_no_raw_address():
    from django.test import RequestFactory

    from core.throttling import client_ident

    ident = client_ident(RequestFactory().get("/", REMOTE_ADDR="198.51.100.77"))
    assert ident.startswith("ip:") and "198.51.100.77" not in ident


def test_rates_read_from_the_environment():
    import subprocess
    import sys

    from tests.network.test_settings import BASE_ENV

    result = subprocess.run(
        [sys.executable, "-c", "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
         "django.setup();from django.conf import settings as s;"
         "print(s.API_THROTTLE_RATE, s.CONVERSION_THROTTLE_RATE, s.ANON_THROTTLE_RATE,"
         " s.ACCOUNT_RATE_LIMITS['login_failed'])"],
        env={**BASE_ENV, "API_THROTTLE_RATE": "7/min", "CONVERSION_THROTTLE_RATE": "70/s",
             "ANON_THROTTLE_RATE": "0", "LOGIN_FAILED_RATE_LIMIT": "3/m/ip"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7/min", "70/s", "0", "3/m/ip"]


def test_default_rates_are_generous():
    from django.conf import settings

    from core.throttling import parse_rate

    assert parse_rate(settings.API_THROTTLE_RATE) == (1200, 60)
    assert parse_rate(settings.CONVERSION_THROTTLE_RATE) == (60000, 60)
    assert parse_rate("0") is None and parse_rate("") is None


# --- login (django-allauth) -------------------------------------------------------------------------------
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def login_user(world):
    user = world.a.owner.user
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "10/m/ip,3/5m/key", "login": "30/m/ip"})
def test_repeated_wrong_passwords_lock_the_account_for_a_while(login_user):
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(3):
        response = client.post("/accounts/login/", {"login": login_user.email, "password": "wrong-wrong-1"})
        assert response.status_code == 200 and b"not correct" in response.content
    # Now even the right password is refused until the window passes: no oracle for the guesser.
    response = client.post("/accounts/login/", {"login": login_user.email, "password": PASSWORD})
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
    # From another address the same e-mail is locked as well (the key is the e-mail).
    other = Client(REMOTE_ADDR="198.51.100.21")
    response = other.post("/accounts/login/", {"login": login_user.email, "password": PASSWORD})
    assert b"Too many failed login attempts" in response.content


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "2/m/ip,50/5m/key", "login": "30/m/ip"})
def test_one_address_guessing_many_accounts_is_throttled(login_user, world):
    client = Client(REMOTE_ADDR="198.51.100.30")
    for email in ("a@x.test", "b@x.test"):
        client.post("/accounts/login/", {"login": email, "password": "wrong-wrong-1"})
    response = client.post("/accounts/login/", {"login": login_user.email, "password": PASSWORD})
    assert b"Too many failed login attempts" in response.content
    # Another address logs in fine.
    response = Client(REMOTE_ADDR="198.51.100.31").post(
        "/accounts/login/", {"login": login_user.email, "password": PASSWORD})
    assert response.status_code == 302


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "10/m/ip,5/5m/key", "login": "2/m/ip"})
def test_too_many_logins_from_one_address_answer_429_with_a_page(login_user):
    client = Client(REMOTE_ADDR="198.51.100.40")
    for _ in range(2):
        client.post("/accounts/login/", {"login": login_user.email, "password": "wrong-wrong-1"})
    response = client.post("/accounts/login/", {"login": login_user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many attempts" in response.content and b"pico.min.css" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "2/m/ip,50/5m/key", "login": "30/m/ip"},
                   TRUSTED_PROXY_COUNT=2)
def test_behind_proxies_login_limits_count_the_forwarded_address(login_user):
    proxy = Client(REMOTE_ADDR="10.0.0.9")
    guesser = {"HTTP_X_FORWARDED_FOR": "198.51.100.50, 10.0.0.8"}
    for email in ("a@x.test", "b@x.test"):
        assert proxy.post("/accounts/login/", {"login": email, "password": "x-wrong-1"}, **guesser).status_code == 200
    response = proxy.post("/accounts/login/", {"login": login_user.email, "password": PASSWORD}, **guesser)
    assert b"Too many failed login attempts" in response.content
    # Another visitor behind the same proxies, and a forged short header (fewer entries than proxies), log in.
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.51, 10.0.0.8"}
    response = Client(REMOTE_ADDR="10.0.0.9").post("/accounts/login/", {"login": login_user.email,
                                                                         "password": PASSWORD}, **other)
    assert response.status_code == 302
    short = Client(REMOTE_ADDR="10.0.0.9").get("/accounts/login/", HTTP_X_FORWARDED_FOR="198.51.100.52")
    assert short.status_code == 200


def test_login_limits_are_configured_by_default():
    from allauth.account import app_settings

    limits = app_settings.RATE_LIMITS
    assert limits["login_failed"] == "10/m/ip,5/5m/key"
    assert limits["login"] == "30/m/ip"


def test_counter_counts_once_per_call_and_expires_with_its_window():
    from django.core.cache import caches

    from core.throttling import _count

    assert [_count("throttle:test:x:1", 5) for _ in range(3)] == [1, 2, 3]
    assert caches["default"].get("throttle:test:x:1") == 3  # readable through Django's cache API too
    assert _count("throttle:test:x:2", 5) == 1
