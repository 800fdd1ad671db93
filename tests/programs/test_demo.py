"""The programs part of seed_demo: three programs of the three kinds, idempotent, usable through the API; the sale
program shows the advertiser controls (targeting, caps, product-level rates)."""

import io

import pytest
from django.core.management import call_command

from programs.models import CommissionRule, CouponCode, Creative, Partnership, Program, TrackingLink
from tests.conftest import api_client

pytestmark = pytest.mark.django_db

MODELS = (Program, CommissionRule, Partnership, TrackingLink, Creative, CouponCode)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_seed_demo_programs_are_idempotent_and_usable():
    call_command("seed_demo", "--force", "--days", "14", stdout=io.StringIO())  # 14 days of traffic: faster
    counts = [model.objects.count() for model in MODELS]
    assert counts == [3, 6, 8, 9, 4, 3]  # the referred sign-up (Summit Stories) has one partnership and link
    call_command("seed_demo", "--force", "--days", "14", stdout=io.StringIO())  # 14 days of traffic: faster
    assert [model.objects.count() for model in MODELS] == counts

    sale = Program.objects.get(name="Northwind Trail Gear")
    assert sale.rules.filter(kind="percent", group__isnull=True, match={}).get().tiers[0]["min_conversions"] == 10
    assert sale.targeting == {"countries_allowed": [], "countries_blocked": ["CN", "VN"],
                              "devices": ["desktop", "mobile"]}
    assert sale.caps["conversions_day"] == 300 and sale.caps["action"] == "hold"
    assert sorted(str(rule.match) for rule in sale.rules.exclude(match={})) == [
        "{'category': ['footwear']}", "{'sku': ['tent']}"]
    lead = Program.objects.get(name="Northwind Newsletter Leads").rules.get()
    assert (lead.event, lead.kind) == ("lead", "fixed")
    from commissions.models import Commission
    from programs.caps import caps_status

    leads = Program.objects.get(name="Northwind Newsletter Leads")
    assert caps_status(program=leads)["conversions_day"]["limit"] == 500  # the pages show what is left
    assert all(not c.rule_snapshot.get("cap", {}).get("exceeded") for c in Commission.objects.filter(program=leads))
    subscription = Program.objects.get(name="Blue Lantern Pro").rules.get()
    assert subscription.recurring_months == 12
    assert Program.objects.get(name="Blue Lantern Pro").advertiser != sale.advertiser
    assert TrackingLink.objects.exclude(sub1="").count() == 9
    assert Creative.objects.get(kind="banner").image

    affiliate = api_client("afk_demo_affiliate_trail")
    programs = affiliate.get("/api/v1/programs").json()["results"]
    assert {p["name"] for p in programs} == {"Northwind Trail Gear", "Northwind Newsletter Leads", "Blue Lantern Pro"}
    links = affiliate.get("/api/v1/links").json()
    assert links["count"] == 4 and all("/c/" in row["url"] for row in links["results"])
    creatives = affiliate.get(f"/api/v1/creatives?program={sale.pk}").json()["results"]
    assert len(creatives) == 2 and all("/c/" in c["rendered"] for c in creatives)
    pending = api_client("afk_demo_advertiser_northwind").get("/api/v1/partnerships?status=pending").json()
    assert pending["count"] == 1
