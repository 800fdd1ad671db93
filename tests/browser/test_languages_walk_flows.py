"""Pages a walk in Polish found too wide: the fraud review's decision buttons (longer words than English) made the
page scroll sideways on a laptop; they wrap inside their cell now, and no button is cut off."""

import pytest

from commissions.models import Commission
from network.models import User
from tests.payouts.helpers import earn

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
