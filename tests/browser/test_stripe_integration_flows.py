"""The Stripe billing section of the advertiser's integration page in a real browser: connect Stripe to a program,
read the webhook URL to paste into Stripe, set the secret; on a phone too without sideways scrolling."""

import pytest

from tests.factories import make_program

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_an_advertiser_connects_stripe_and_sets_its_secret(world, browser, live_server, screenshot_dir, width):
    program = make_program(world.a.advertiser, name="Cloud Plan")
    with_password(world.a.advertiser.membership.user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    try:
        page = context.new_page()
        log_in(page, "shop@alpha.test")
        page.goto("/advertiser/integration/#stripe")
        section = page.locator("#stripe")
        section.get_by_label("Program").select_option(str(program.pk))
        section.get_by_role("button", name="Connect Stripe").click()
        url = page.get_by_test_id("stripe-webhook-url").inner_text()
        integration = world.a.advertiser.stripe_integrations.get()
        assert url == f"{live_server.url}/api/v1/integrations/stripe/{integration.token}/webhook"
        assert "no secret yet" in section.inner_text()
        section.get_by_label("New signing secret").fill("whsec_browser_secret_1234")
        section.get_by_role("button", name="Save secret").click()
        assert "whsec_…1234" in page.locator("#stripe").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-integration-stripe-{width}.png"), full_page=True)
    finally:
        context.close()
