"""Program targeting in a real browser: the advertiser ticks device types and types countries on the program form,
sees a bad code next to its field, then the settings in words; the affiliate reads them on "My programs"; on a
phone too without sideways scrolling."""

import pytest

from programs.models import Program
from tests.factories import make_partnership, make_program

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_an_advertiser_sets_targeting_and_the_affiliate_reads_it(world, browser, live_server, screenshot_dir,
                                                                 width):
    program = make_program(world.a.advertiser, name="Alps Gear")
    make_partnership(program, world.a.affiliate)
    with_password(world.a.advertiser.membership.user)
    with_password(world.a.affiliate.membership.user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    try:
        page = context.new_page()
        log_in(page, "shop@alpha.test")
        page.goto(f"/advertiser/programs/{program.pk}/edit/")
        form = page.get_by_test_id("targeting-form")
        form.get_by_label("Only these countries").fill("de, at, XX")
        form.get_by_label("mobile").check()
        form.get_by_label("tablet").check()
        page.get_by_role("button", name="Save").click()
        assert "'XX' is not an ISO 3166-1 alpha-2 country code." in page.get_by_test_id("targeting-form").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_test_id("targeting-form").get_by_label("Only these countries").fill("de, at")
        page.get_by_role("button", name="Save").click()
        targeting = page.get_by_test_id(f"targeting-{program.pk}").inner_text()
        assert "Only visitors from: Austria (AT), Germany (DE)" in targeting and "Only on: mobile, tablet" in targeting
        assert Program.objects.get(pk=program.pk).targeting["devices"] == ["mobile", "tablet"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-program-targeting-{width}.png"), full_page=True)
        context.clear_cookies()
        log_in(page, "blog@alpha.test")
        page.goto("/partner/programs/")
        assert "Only visitors from: Austria (AT), Germany (DE)" in page.get_by_test_id(
            f"targeting-{program.pk}").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
