"""Every page of every party with the demo data, in Chromium at a phone's width (390 px) and a laptop's (1366 px):
no page scrolls sideways, and axe-core finds no critical or serious accessibility violation (at 390 px).

The pages come from the URL conf (tests/browser/site_pages.py); a route that answers GET with 405 is a form's
action, a JSON or CSV answer is not a page, and an htmx fragment (no <html>) is part of a page already visited.
axe-core is the npm package as vendored by the `axe-playwright-python` wheel (a dev dependency).
"""

import io
from importlib import resources

import pytest
from django.core.management import call_command

from .site_pages import demo_ids, page_urls

pytestmark = pytest.mark.browser

WIDTHS = (390, 1366)
DEMO_PASSWORD = "demo-pass-2026"
MEMBERS = {"affiliate": "ana@trailreviews.test", "advertiser": "merchant@northwind.test",
           "operator": "owner@demo.test"}
# At least this many pages a party: a broken URL walk must not pass by visiting nothing.
AT_LEAST = {"stranger": 10, "affiliate": 14, "advertiser": 16, "operator": 15}
AXE_RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations
    .filter(v => v.impact === "critical" || v.impact === "serious")
    .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`))"""


def axe_source() -> str | None:
    try:
        return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return None


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", "--force", "--days", "14", stdout=io.StringIO())  # 14 days of traffic: faster
    return page_urls(demo_ids())


def log_in_as(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def check_pages(page, urls, axe: str | None, problems: list[str], visited: list[str]) -> None:
    for name, path in urls:
        answer = page.request.get(path, max_redirects=0)
        if answer.status == 405 or "text/html" not in answer.headers.get("content-type", ""):
            continue  # a form's action, or a download
        if "<html" not in answer.text()[:500]:
            continue  # an htmx fragment
        if answer.status >= 500:
            problems.append(f"{path} ({name}) answers {answer.status}")
            continue
        visited.append(path)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(path)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems.append(f"{path} ({name}) is {scroll_width} px wide at {width} px")
            if axe and width == WIDTHS[0]:
                page.evaluate(axe)
                assert page.evaluate("typeof axe.run") == "function", "axe-core did not load"
                problems.extend(f"{path} ({name}): {violation}" for violation in page.evaluate(AXE_RUN))


def test_every_page_fits_a_phone_and_a_laptop_and_passes_axe(demo, new_page):
    axe = axe_source()
    problems: list[str] = []
    visited: dict[str, list[str]] = {}

    stranger = new_page()
    visited["stranger"] = []
    check_pages(stranger, [*demo["stranger"], ("404", "/no-such-page/")], axe, problems, visited["stranger"])
    for party, email in MEMBERS.items():
        page = new_page()
        log_in_as(page, email)
        visited[party] = []
        check_pages(page, [*demo[party], *demo["signed_in"]], axe, problems, visited[party])

    assert "/no-such-page/" in visited["stranger"]
    for party, least in AT_LEAST.items():
        assert len(visited[party]) >= least, (party, visited[party], demo["unfilled"])
    assert not problems, "\n".join(problems)
    if axe is None:
        pytest.skip("widths checked; axe-core not loaded: install the dev extra (axe-playwright-python)")


def test_the_menu_folds_behind_one_button_on_a_phone(world, browser, live_server):
    from .conftest import log_in, with_password

    with_password(world.a.affiliate.membership.user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        log_in(page, "blog@alpha.test")
        menu = page.get_by_role("button", name="Menu: Overview")
        commissions = page.locator(".sidenav").get_by_role("link", name="Commissions")
        assert menu.is_visible() and not commissions.is_visible()
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        commissions.click()
        page.wait_for_url("**/partner/commissions/")
        assert page.get_by_role("button", name="Menu: Commissions").is_visible()
        page.set_viewport_size({"width": 1366, "height": 800})
        assert not page.get_by_role("button", name="Menu: Commissions").is_visible()
        assert page.locator(".sidenav").get_by_role("link", name="Payouts").is_visible()
    finally:
        context.close()
