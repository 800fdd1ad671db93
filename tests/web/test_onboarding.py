"""Onboarding checklists on the partner's and the advertiser's overview: each step ticks when what it names
happened (rows), the list hides once every step is done; the Integration page's test conversion records a marked,
unattributed sale that pays no one."""

import re
from decimal import Decimal

from commissions.models import Commission, LedgerEntry
from network.models import AuditLog
from tests.factories import make_link, make_partnership, make_program
from tests.payouts.helpers import method
from tests.tracking.clicks_support import record_for
from tracking import ingest
from tracking.ids import new_click_id
from tracking.models import Conversion


def steps(client, url) -> dict[str, bool] | None:
    body = client.get(url).content.decode()
    if 'data-testid="onboarding"' not in body:
        return None
    return {key: done == "yes" for key, done in re.findall(r'data-testid="step-(\w+)" data-done="(\w+)"', body)}


# --- affiliate -----------------------------------------------------------------------------------
def test_a_new_affiliates_checklist_ticks_each_step_as_it_happens_and_then_hides(world, web):
    client, tenant = web("a", "affiliate"), world.a
    assert steps(client, "/partner/") == {"apply": False, "link": False, "payout_method": False,
                                          "first_click": False}
    program = make_program(tenant.advertiser)
    partnership = make_partnership(program, tenant.affiliate, status="pending")
    assert steps(client, "/partner/") == {"apply": True, "link": False, "payout_method": False,
                                          "first_click": False}
    link = make_link(partnership)
    method(tenant.affiliate, "paypal")
    assert steps(client, "/partner/") == {"apply": True, "link": True, "payout_method": True,
                                          "first_click": False}
    assert ingest.ingest_records([record_for(link, new_click_id())]).inserted == 1
    assert steps(client, "/partner/") is None


def test_an_affiliates_checklist_counts_only_its_own_rows(world, web):
    # Another affiliate's (and another network's) partnership, link, method and click tick nothing here.
    for tenant in (world.a, world.b):
        program = make_program(tenant.advertiser)
        link = make_link(make_partnership(program, tenant.affiliate2))
        method(tenant.affiliate2, "paypal")
        ingest.ingest_records([record_for(link, new_click_id())])
    assert steps(web("a", "affiliate"), "/partner/") == {"apply": False, "link": False, "payout_method": False,
                                                         "first_click": False}


def test_checklist_steps_link_where_each_is_done(world, web):
    body = web("a", "affiliate").get("/partner/").content.decode()
    for url in ("/partner/marketplace/", "/partner/links/", "/partner/payouts/settings/"):
        assert f'href="{url}"' in body


# --- advertiser ----------------------------------------------------------------------------------
def test_a_new_advertisers_checklist_ticks_each_step_and_hides_when_done(world, web):
    client, tenant = web("a", "advertiser"), world.a
    # The key made with the account on invitation was never shown: it does not count.
    assert steps(client, "/advertiser/") == {"program": False, "api_key": False, "test_conversion": False,
                                             "partners": False}
    program = make_program(tenant.advertiser)
    assert client.post("/advertiser/integration/", {"name": "shop server"}).status_code == 200
    assert steps(client, "/advertiser/") == {"program": True, "api_key": True, "test_conversion": False,
                                             "partners": False}
    assert client.post("/advertiser/integration/test-conversion").status_code == 302
    # An application waiting for a decision is not a partner yet; an approved one is.
    partnership = make_partnership(program, tenant.affiliate, status="pending")
    assert steps(client, "/advertiser/")["partners"] is False
    partnership.status = "approved"
    partnership.save(update_fields=["status"])
    assert steps(client, "/advertiser/") is None


def test_an_invitation_ticks_invite_partners_and_a_used_key_ticks_the_key(world, web):
    tenant = world.a
    program = make_program(tenant.advertiser)
    # Invite through the program page (invite-only programs' invitations are pending partnerships).
    response = web("a", "advertiser").post(f"/advertiser/programs/{program.pk}/invite",
                                           {"affiliate": tenant.affiliate.pk})
    assert response.status_code == 302, response.content[:500]
    tenant.client("advertiser").get("/api/v1/me")  # the invitation's key, used from the API
    result = steps(web("a", "advertiser"), "/advertiser/")
    assert result["partners"] is True and result["api_key"] is True


def test_another_networks_rows_tick_nothing_for_an_advertiser(world, web):
    program = make_program(world.b.advertiser)
    make_partnership(program, world.b.affiliate)
    web("b", "advertiser").post("/advertiser/integration/test-conversion")
    assert steps(web("a", "advertiser"), "/advertiser/") == {"program": False, "api_key": False,
                                                             "test_conversion": False, "partners": False}


# --- the test conversion -------------------------------------------------------------------------
def test_the_test_conversion_is_recorded_marked_unattributed_and_pays_no_one(world, web):
    tenant = world.a
    program = make_program(tenant.advertiser)
    make_link(make_partnership(program, tenant.affiliate))
    client = web("a", "advertiser")
    body = client.get("/advertiser/integration/").content.decode()
    assert 'action="/advertiser/integration/test-conversion"' in body
    response = client.post("/advertiser/integration/test-conversion", follow=True)
    assert response.status_code == 200
    conversion = Conversion.objects.get(advertiser=tenant.advertiser)
    assert conversion.order_id.startswith("TEST-") and conversion.order_id in response.content.decode()
    assert (conversion.attribution, conversion.affiliate_id, conversion.amount, conversion.currency) == (
        "none", None, Decimal("0"), "EUR")
    assert not Commission.objects.exists() and not LedgerEntry.objects.exists()
    assert AuditLog.objects.filter(network=tenant.network, action="conversion.test_sent",
                                   target_id=str(conversion.pk)).exists()
    # Each press is one more test conversion; none in the other network.
    client.post("/advertiser/integration/test-conversion")
    assert Conversion.objects.filter(advertiser=tenant.advertiser).count() == 2
    assert not Conversion.objects.filter(network=world.b.network).exists()
    assert "TEST-" in client.get("/advertiser/conversions/").content.decode()


def test_the_test_conversion_is_for_advertisers_only_and_needs_a_post(world, web):
    assert web("a", "affiliate").post("/advertiser/integration/test-conversion").status_code == 403
    assert web("a", "owner").post("/advertiser/integration/test-conversion").status_code == 403
    assert web("a", "advertiser").get("/advertiser/integration/test-conversion").status_code == 405
    assert not Conversion.objects.exists()


def test_the_test_conversion_is_flagged_badged_and_counted_in_no_total(world, web):
    from reports.rebuild import days_rebuild
    from tests.factories import make_conversion
    from tracking.models import ConversionDay, ConversionDayChange

    tenant = world.a
    program = make_program(tenant.advertiser)
    link = make_link(make_partnership(program, tenant.affiliate))
    make_conversion(tenant.advertiser, order_id="REAL-1", amount="40.00", link=link)
    client = web("a", "advertiser")
    client.post("/advertiser/integration/test-conversion")
    test = Conversion.objects.get(advertiser=tenant.advertiser, order_id__startswith="TEST-")
    assert test.is_test and not Conversion.objects.get(order_id="REAL-1").is_test

    def counted():
        rows = [*ConversionDay.objects.filter(network=tenant.network),
                *ConversionDayChange.objects.filter(network=tenant.network)]  # reports read both
        return sum(r.conversions for r in rows), sum(r.sales for r in rows)

    assert counted() == (1, Decimal("40.00"))
    days_rebuild(tenant.network.pk)  # a rebuild from the rows leaves it out as well
    assert counted() == (1, Decimal("40.00"))
    # Badged wherever conversions are listed; the overview's count is the real sale's alone.
    listed = client.get("/advertiser/conversions/").content.decode()
    assert listed.count('data-testid="test-badge"') == 1 and "unattributed conversion" not in listed
    overview = client.get("/advertiser/").content.decode()
    assert overview.count('data-testid="test-badge"') == 1
    assert 'data-testid="kpi-conversions">1<' in overview
    detail = client.get(f"/advertiser/conversions/{test.pk}/").content.decode()
    assert 'data-testid="test-badge"' in detail
    # The API says so too.
    body = tenant.client("advertiser").get(f"/api/v1/conversions/{test.pk}").json()
    assert body["is_test"] is True
