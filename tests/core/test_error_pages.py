"""A visitor never sees Django's debug pages, not even in the demo (DEBUG on): the site's own 404 and 500 pages,
and a favicon (issue 18)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

DEBUG_MARKS = ("DEBUG = True", "Traceback", "URLconf", "Request Method")


@pytest.fixture
def demo_mode(settings):
    """The embedded default as scripts/run.sh starts it: DEBUG on (a new Client loads the middleware anew)."""
    settings.DEBUG = True
    settings.DEBUG_ERROR_PAGES = False
    settings.ROOT_URLCONF = "tests.core.error_urls"


def assert_friendly(response, status: int, words: str) -> None:
    page = response.content.decode()
    assert response.status_code == status
    assert words in page and "<html" in page
    assert not any(mark in page for mark in DEBUG_MARKS), page[:300]


def test_an_unknown_path_answers_the_friendly_404_under_debug(demo_mode):
    assert_friendly(Client().get("/no-such-page/"), 404, "Page not found")


def test_a_view_raising_404_answers_the_friendly_404_under_debug(demo_mode):
    assert_friendly(Client().get("/missing/"), 404, "Page not found")


def test_a_bug_answers_the_friendly_500_under_debug_and_is_logged(demo_mode, caplog):
    response = Client(raise_request_exception=False).get("/broken/")
    assert_friendly(response, 500, "Something went wrong")
    [record] = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert record.exc_info and "a bug in a page" in str(record.exc_info[1])


def test_a_suspicious_request_answers_the_friendly_400_under_debug(demo_mode):
    assert_friendly(Client().get("/suspicious/"), 400, "This request could not be read")


def test_a_missing_slash_still_redirects_under_debug(demo_mode):
    response = Client().get("/partner")
    assert response.status_code == 301 and response["Location"] == "/partner/"


def test_the_api_keeps_json_errors_under_debug(demo_mode):
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_debug_error_pages_setting_brings_django_pages_back(demo_mode, settings):
    settings.DEBUG_ERROR_PAGES = True
    assert "URLconf" in Client().get("/no-such-page/").content.decode()


def test_without_debug_the_handlers_render_the_same_pages(settings):
    settings.ROOT_URLCONF = "tests.core.error_urls"
    assert_friendly(Client().get("/no-such-page/"), 404, "Page not found")
    assert_friendly(Client(raise_request_exception=False).get("/broken/"), 500, "Something went wrong")


def test_the_favicon_is_linked_and_served(settings):
    page = Client().get("/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
