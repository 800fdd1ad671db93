"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server.

Every test here is marked `browser`. Without /usr/bin/chromium they skip with the reason;
`scripts/test.sh` installs it. Screenshots go to docs/screenshots/ when SAVE_SCREENSHOTS=1,
else to a temporary folder (the code path runs either way).
"""

import os
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-pass-2026"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _single_threaded_live_server_on_sqlite() -> None:
    """On SQLite the test database is in memory and the live server's threads share its one connection:
    two requests at once (a page's two chart fetches) deadlock on it. A single-threaded server answers them
    one after the other (Django's WSGIServer sends `Connection: close`, so a keep-alive cannot block it)."""
    from django.conf import settings
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class SingleThreadedWSGIServer(WSGIServer):
        # LiveServerThread.run() already put the shared connection in its own thread, which serves every request.
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        LiveServerThread.server_class = SingleThreadedWSGIServer


_single_threaded_live_server_on_sqlite()



def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    missing = not Path(CHROMIUM).exists()
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it is open; the tests' ORM
    # calls (and the database flush after each test) are still synchronous. The variable lives exactly
    # as long as that loop, so it never reaches the subprocesses of other tests (check --deploy).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """`new_page()` -> a Page in its own browser context (its own cookies: one person each); `new_page(width=390)`:
    a phone's width (844 px high)."""
    contexts = []

    def make(width: int | None = None):
        viewport = {"width": 1280, "height": 800} if width is None else {"width": width, "height": 844}
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def with_password(user) -> None:
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"primary": True, "verified": True})


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/(operator|advertiser|partner)/$"))


def link_in(body: str) -> str:
    match = re.search(r"https?://\S+", body.split("\n\n", 1)[-1])
    assert match, body
    return match.group(0)
