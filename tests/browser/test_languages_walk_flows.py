"""What a walk in Polish and Indonesian found in a real browser: the fraud review's decision buttons (longer words
than English) made the page scroll sideways on a laptop (they wrap inside their cell now, and no button is cut off);
the payouts awaiting a mark did the same; the charts' legends, number formats and the copy button's "Copied" were
English."""

import pytest
from playwright.sync_api import expect

from commissions.models import Commission
from network.models import User
from payouts.models import MethodKind
from tests.payouts.helpers import earn, method

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["pl", "id"])
def test_the_fraud_review_fits_a_laptop_and_a_phone_in_polish_and_indonesian(world, new_page, lang):
    with_password(world.a.owner.user)
    User.objects.filter(pk=world.a.owner.user_id).update(language=lang)
    for amount in ("12.00", "48.50"):
        held = earn(world.a, amount, approve=False)
        Commission.objects.filter(pk=held.pk, network=world.a.network).update(
            status=Commission.Status.ON_HOLD, reason="Held for review: duplicate_click")
    page = new_page()
    log_in(page, "owner@alpha.test")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/operator/fraud/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 1366:  # on a phone the table scrolls in its own box
            for button in page.locator("main td.actions button").all():
                box = button.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, button.inner_text()


def test_the_partner_overviews_chart_and_copy_button_speak_polish(world, new_page):
    user = world.a.affiliate.membership.user
    with_password(user)
    User.objects.filter(pk=user.pk).update(language="pl")
    earn(world.a, "12500.00", approve=False)  # over ten thousand: Polish groups five digits ("12 000"), not four
    page = new_page()
    log_in(page, user.email)
    page.locator("#chart-performance[data-chart-ready=true]").wait_for()
    chart = page.evaluate("""() => { const chart = Chart.getChart(document.getElementById('chart-performance'));
        return {labels: chart.data.datasets.map(d => d.label), locale: chart.options.locale,
                ticks: chart.scales.earnings.ticks.map(t => t.label)}; }""")
    assert chart["labels"] == ["Kliknięcia", "Zarobki (EUR)"] and chart["locale"] == "pl"
    assert any("\u00a0" in label or " " in label for label in chart["ticks"] if len(label) > 5), chart["ticks"]
    assert not any("," in label for label in chart["ticks"]), chart["ticks"]
    page.goto("/partner/links/")
    copy = page.locator("button[data-copy]").first
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    expect(copy).to_have_attribute("data-copied", "true")
    assert copy.inner_text() == "Skopiowano"


@pytest.mark.parametrize("lang", ["pl", "id"])
def test_the_payouts_awaiting_a_mark_fit_a_laptop_in_polish_and_indonesian(world, new_page, lang):
    a = world.a
    with_password(a.owner.user)
    User.objects.filter(pk=a.owner.user_id).update(language=lang)
    earn(a, "42.50")
    earn(a, "18.00", affiliate=a.affiliate2)
    method(a.affiliate, MethodKind.PAYPAL, paypal_email="payme@blog.test")
    method(a.affiliate2, MethodKind.BANK)
    page = new_page()
    log_in(page, "owner@alpha.test")
    page.goto("/operator/payouts/batches/")
    page.locator("main form.inline-form button[type=submit]").click()
    page.locator("#batch-progress[data-status=processing]").wait_for()
    for path in (page.url, "/operator/payouts/"):
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
            if width == 1366:
                buttons = page.locator("main td.actions button").all()
                assert len(buttons) >= 4
                for button in buttons:
                    box = button.bounding_box()
                    assert box and box["x"] + box["width"] <= width, (path, button.inner_text())
