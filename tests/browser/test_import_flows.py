"""The advertiser's CSV import page in a real browser: a file dropped on the drop zone or chosen in the file input,
the job's progress polled until done, on a phone too without sideways scrolling."""

from pathlib import Path

import pytest

from tests.tracking.conversions_support import make_shop
from tracking.models import Conversion, ConversionImport

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser

CSV = "order_id,amount,currency\nWEB-1,10.00,EUR\nWEB-2,ten,EUR\n"


@pytest.mark.parametrize("width", [1366, 390])
def test_an_advertiser_imports_a_file_and_reads_its_result(world, browser, live_server, screenshot_dir, tmp_path,
                                                           width):
    make_shop(world.a)
    user = world.a.advertiser.membership.user
    with_password(user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    try:
        page = context.new_page()
        log_in(page, user.email)
        page.goto("/advertiser/conversions/")
        page.get_by_role("link", name="Import conversions from a CSV file").click()
        page.wait_for_url("**/advertiser/conversions/import/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Drag and drop: a file dropped on the zone becomes the file input's file.
        page.evaluate("""(csv) => {
            const data = new DataTransfer();
            data.items.add(new File([csv], "dropped.csv", {type: "text/csv"}));
            const zone = document.querySelector("[data-drop-zone]");
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""", CSV)
        assert page.evaluate("document.getElementById('id_file').files[0].name") == "dropped.csv"
        assert "dropped.csv" in page.locator("[data-drop-name]").inner_text()
        # The plain file input works as well (what a browser without the script uses).
        path = Path(tmp_path) / "orders.csv"
        path.write_text(CSV)
        page.set_input_files("#id_file", str(path))
        page.screenshot(path=str(screenshot_dir / f"advertiser-import-{width}.png"), full_page=True)
        page.get_by_test_id("import-form").get_by_role("button", name="Import").click()
        page.wait_for_url("**/advertiser/conversions/import/*/")
        progress = page.locator("#import-progress")
        assert progress.get_attribute("data-status") == "done"
        assert page.get_by_test_id("import-created").inner_text() == "1"
        assert page.get_by_test_id("import-errors").inner_text() == "1"
        assert "amount" in page.get_by_test_id("import-error-rows").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir / f"advertiser-import-done-{width}.png"), full_page=True)
        assert Conversion.objects.filter(order_id="WEB-1").exists()
    finally:
        context.close()


def test_the_progress_is_polled_until_the_import_is_done(world, browser, live_server):
    user = world.a.advertiser.membership.user
    with_password(user)
    job = ConversionImport.objects.create(network=world.a.network, advertiser=world.a.advertiser, total=10,
                                          processed=3, status="running", filename="big.csv")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        log_in(page, user.email)
        page.goto(f"/advertiser/conversions/import/{job.pk}/")
        page.locator('#import-progress progress[value="3"]').wait_for()
        ConversionImport.objects.filter(pk=job.pk).update(processed=7, created=7)
        page.locator('#import-progress progress[value="7"]').wait_for()
        ConversionImport.objects.filter(pk=job.pk).update(processed=10, created=10, status="done")
        page.locator('#import-progress[data-status="done"]').wait_for()
        assert page.locator("#import-progress").get_attribute("hx-get") is None  # no more polling
    finally:
        context.close()
