"""Under the Content-Security-Policy in a real browser: pages with charts and htmx raise no violation, and the
behaviour that moved out of inline handlers (confirm before acting, select all) still works."""

import pytest

from commissions.models import Commission
from network.models import ApiKey
from tests.commissions.helpers import convert

from .conftest import log_in, with_password
from .test_advertiser_flows import populate_sales

pytestmark = pytest.mark.browser


def watch_violations(page) -> list:
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def test_pages_run_under_the_policy_without_violations(world, new_page):
    populate_sales(world.a)
    with_password(world.a.advertiser.membership.user)
    with_password(world.a.owner.user)
    advertiser = new_page()
    violations = watch_violations(advertiser)
    log_in(advertiser, "shop@alpha.test")
    for path in ("/advertiser/", "/advertiser/reports/", "/advertiser/commissions/", "/api/docs/"):
        response = advertiser.goto(path)
        assert response.status == 200 and response.headers["content-security-policy"]
        advertiser.wait_for_load_state("networkidle")
    operator = new_page()
    violations += watch_violations(operator)
    log_in(operator, "owner@alpha.test")
    operator.goto("/operator/")
    operator.wait_for_selector("canvas")
    operator.wait_for_load_state("networkidle")
    assert violations == []


def test_confirm_and_select_all_work_without_inline_handlers(world, new_page):
    link = populate_sales(world.a)
    for n in range(2):
        convert(world.a, link, f"CSP-{n}", "20.00")
    with_password(world.a.advertiser.membership.user)
    page = new_page()
    log_in(page, "shop@alpha.test")

    page.goto("/advertiser/commissions/?status=pending")
    boxes = page.locator("input[name=ids]")
    assert boxes.count() >= 2
    page.check("input[data-select-all]")
    assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))
    page.uncheck("input[data-select-all]")
    assert not any(boxes.nth(n).is_checked() for n in range(boxes.count()))

    key = ApiKey.objects.filter(membership=world.a.advertiser.membership).first()
    page.goto("/advertiser/integration/")
    revoke = page.locator("button[data-confirm]").first
    page.once("dialog", lambda dialog: dialog.dismiss())
    revoke.click()
    page.wait_for_timeout(300)
    key.refresh_from_db()
    assert key.revoked_at is None  # dismissed: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    page.wait_for_load_state("networkidle")
    assert Commission.objects.exists()
    revoked = ApiKey.objects.filter(membership=world.a.advertiser.membership, revoked_at__isnull=False)
    assert revoked.count() == 1
