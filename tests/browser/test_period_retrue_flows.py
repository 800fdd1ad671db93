"""A correction re-trues its tier period, in a real browser: the advertiser corrects one order of a trued-up month on
the conversion page, and the partner, reading in Russian, finds why its other commission of the month is now paid the
higher tier; at 1366 and 390 px without sideways scrolling."""

from datetime import timedelta
from decimal import Decimal

import pytest

from commissions.models import Commission
from commissions.trueup import tier_trueups_run
from tests.commissions.helpers import convert, program_with_link
from tests.commissions.test_conversion_adjust_terms import AMOUNT_RULE
from tests.commissions.test_tiers_trueup import AFTER_OCTOBER, OCTOBER

from .conftest import log_in, with_password

pytestmark = pytest.mark.browser
D = Decimal


@pytest.mark.parametrize("width", [1366, 390])
def test_the_advertiser_corrects_an_order_and_the_partner_reads_the_period_re_trued(world, new_page, screenshot_dir,
                                                                                    width):
    _, link = program_with_link(world.a, rules=[AMOUNT_RULE])  # 8 %, 10 % from 250.00 a month
    first, second = [convert(world.a, link, f"oct-{n}", "100", created_at=OCTOBER + timedelta(hours=n))[1][0]
                     for n in range(2)]
    assert tier_trueups_run(now=AFTER_OCTOBER) == 1  # 200.00: the month stays at 8 %
    advertiser, partner = world.a.advertiser.membership.user, world.a.affiliate.membership.user
    with_password(advertiser)
    with_password(partner)
    partner.language = "ru"
    partner.save(update_fields=["language"])
    page = new_page(width=width)
    log_in(page, world.a.advertiser.email)
    page.goto(f"/advertiser/conversions/{first.conversion_id}/")
    form = page.get_by_test_id("adjust-form")
    form.locator('[name="amount"]').fill("200.00")  # the month reaches 300.00: 10 %
    form.get_by_role("button", name="Correct the order").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    adjustment = Commission.objects.get(adjusts=second)
    assert (adjustment.amount, adjustment.status) == (D("2.00"), "pending")  # 8.00 + 2.00 = 10 % of 100.00
    page.context.clear_cookies()

    log_in(page, world.a.affiliate.email)
    page.goto(f"/partner/commissions/{second.pk}/")
    retrue = page.get_by_test_id("explain-period-retrue")
    text = retrue.inner_text()
    assert "oct-0" in text and "выравнивается заново" in text  # the reason, in the partner's language
    assert "10%" in text and "8%" in text
    assert "8,00" in text and "10,00" in text and "€" in text  # the commission before and after, in Russian
    # The history and the adjustment say what happened in words of the partner's language, not as keys.
    history = page.get_by_test_id("explain-history").inner_text()
    assert "период выровнен заново" in history and "retrued" not in history
    reason = "Повторное выравнивание уровня за 2026-10, исправлен заказ oct-0: ставка 8 -> 10"
    assert reason in history and "Tier true-up" not in history
    adjustments = page.get_by_test_id("explain-adjustments").inner_text()
    assert "Ожидает (период удержания)" in adjustments and "pending" not in adjustments
    assert reason in adjustments and "Tier true-up" not in adjustments
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(screenshot_dir / f"partner-period-retrued-ru-{width}.png"), full_page=True)
    page.goto("/partner/commissions/")  # the adjustment's line in the list, its reason in Russian too
    listed = page.locator("main").inner_text()
    assert reason in listed and "Tier true-up" not in listed
    assert page.evaluate("document.documentElement.scrollWidth") <= width
