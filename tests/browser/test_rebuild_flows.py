"""The report figures' rebuild on the operator's settings page in a real browser: its steps polled while it runs,
the finished note once it is done, on a phone too without sideways scrolling."""

import pytest
from django.utils import timezone

from network.models import DayRebuild

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_the_settings_page_follows_a_running_rebuild_until_it_finishes(world, browser, live_server, screenshot_dir,
                                                                       width):
    rebuild = DayRebuild.objects.create(network=world.a.network, timezone="America/Argentina/ComodRivadavia",
                                        status=DayRebuild.Status.RUNNING, done=2, total=5)
    with_password(world.a.owner.user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    try:
        page = context.new_page()
        log_in(page, world.a.owner.user.email)
        page.goto("/operator/settings/")
        progress = page.locator("#day-rebuild")
        assert "2 of 5 steps" in progress.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"operator-settings-rebuild-{width}.png"), full_page=True)

        DayRebuild.objects.filter(pk=rebuild.pk).update(done=4)
        page.locator('#day-rebuild progress[value="4"]').wait_for()
        DayRebuild.objects.filter(pk=rebuild.pk).update(done=5, status=DayRebuild.Status.DONE,
                                                        finished_at=timezone.now())
        page.get_by_text("Report figures recomputed for America/Argentina/ComodRivadavia at").wait_for()
        assert progress.get_attribute("hx-trigger") is None  # no more polling
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
