"""Ids no database column can hold are a 404 or ignored, never a 500, on every advertiser page."""

import pytest

from commissions.models import Commission
from tests.pages import make_shop, sale

pytestmark = pytest.mark.django_db
HUGE = "9" * 30


def test_huge_ids_in_urls_and_queries(world, web):
    shop = make_shop(world)
    _, commission = sale(world, shop, "A-1")
    client = web("a", "advertiser")
    for url in (f"/advertiser/programs/{HUGE}/", f"/advertiser/conversions/{HUGE}/",
                f"/advertiser/integration/webhooks/{HUGE}/"):
        assert client.get(url).status_code == 404
    for url in (f"/advertiser/commissions/?program={HUGE}&affiliate={HUGE}", f"/advertiser/partners/?program={HUGE}",
                f"/advertiser/conversions/?program={HUGE}&affiliate={HUGE}"):
        assert client.get(url).status_code == 200
    response = client.post("/advertiser/commissions/bulk", {"action": "approve", "ids": [HUGE, commission.pk]})
    assert response.status_code == 302 and Commission.objects.get(pk=commission.pk).status == "approved"
    response = client.post(f"/advertiser/programs/{shop.program.pk}/coupons", {"partnership": HUGE, "code": "ABCD"})
    assert response.status_code == 400
    response = client.post(f"/advertiser/programs/{shop.program.pk}/invite", {"affiliate": HUGE})
    assert response.status_code == 400
    response = client.post("/advertiser/programs/new/", {"name": "X", "landing_url": "https://x.test/",
                                                         "currency": "EUR", "rules-TOTAL_FORMS": HUGE})
    assert response.status_code == 400
