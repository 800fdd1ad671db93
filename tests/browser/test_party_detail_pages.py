"""The operator's pages of one advertiser and one affiliate (and the webhooks pages) with the demo data, in
Chromium: reached from the lists by a click, they fit 390 px and 1366 px with no sideways scroll, and axe-core finds
no critical or serious violation (the every-page test covers them too; this one runs them alone, fast)."""

import pytest

from .site_pages import demo_ids, page_urls
from .test_every_page import MEMBERS, axe_source, check_pages, demo, log_in_as  # noqa: F401 (demo: a fixture)

pytestmark = pytest.mark.browser

PARTY_PAGES = {"operator_affiliate", "operator_advertiser", "operator_webhooks", "operator_webhook"}


def test_party_pages_fit_a_phone_and_a_laptop_and_pass_axe(demo, new_page):  # noqa: F811
    urls = [(name, path) for name, path in page_urls(demo_ids())["operator"] if name in PARTY_PAGES]
    assert {name for name, _ in urls} == PARTY_PAGES
    page = new_page()
    log_in_as(page, MEMBERS["operator"])
    problems, visited = [], []
    check_pages(page, urls, axe_source(), problems, visited)
    assert len(visited) == len(PARTY_PAGES) and not problems, "\n".join(problems)


def test_the_affiliate_list_leads_to_the_affiliate_page(demo, new_page):  # noqa: F811
    page = new_page()
    log_in_as(page, MEMBERS["operator"])
    page.goto("/operator/affiliates/")
    page.get_by_role("link", name="Trail Reviews").first.click()
    page.wait_for_url("**/operator/affiliates/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Trail Reviews")
    assert page.locator('[data-testid="party-statistics"]').is_visible()
