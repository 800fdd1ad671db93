"""Operator pages: KPIs and chart, advertisers, affiliates, staff, announcements, settings, audit log."""

import pytest
from django.core import mail
from django.test import Client

from network.models import Advertiser, Affiliate, Announcement, AuditLog, Network, PartyStatus
from tests.pages import web_client

OPERATOR_PAGES = [
    ("/operator/", b"Pending affiliates"),
    ("/operator/advertisers/", b"Invite an advertiser"),
    ("/operator/affiliates/", b"Alpha Deals"),
    ("/operator/staff/", b"staff@alpha.test"),
    ("/operator/announcements/", b"New announcement"),
    ("/operator/settings/", b"Keep raw clicks"),
    ("/operator/audit/", b"advertiser.created"),
    ("/operator/charts/new-affiliates.json", b'"labels"'),
]


@pytest.mark.parametrize(("url", "content"), OPERATOR_PAGES)
@pytest.mark.parametrize("role", ["owner", "staff"])
def test_operator_pages_answer_operators_with_their_content(web, url, content, role):
    response = web("a", role).get(url)
    assert response.status_code == 200
    assert content in response.content
    assert b"Bravo" not in response.content  # nothing of the other network


@pytest.mark.parametrize(("url", "_"), OPERATOR_PAGES)
def test_operator_pages_send_anonymous_visitors_to_login(db, url, _):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("url", "_"), OPERATOR_PAGES)
@pytest.mark.parametrize("role", ["advertiser", "affiliate"])
def test_operator_pages_are_forbidden_to_parties(web, url, _, role):
    assert web("a", role).get(url).status_code == 403


def test_dashboard_kpis_count_the_networks_parties(world, web):
    world.a.affiliate2.status = PartyStatus.PENDING
    world.a.affiliate2.save()
    page = web("a", "owner").get("/operator/").content.decode()
    assert 'Active affiliates</span><span class="kpi-value">1<' in page
    assert 'Pending affiliates</span><span class="kpi-value">1<' in page
    assert 'Advertisers</span><span class="kpi-value">1<' in page
    assert 'Operators</span><span class="kpi-value">2<' in page
    assert "Alpha Deals" in page  # in the approval queue


def test_chart_counts_new_affiliates_per_day_in_the_networks_timezone(world, web):
    data = web("a", "owner").get("/operator/charts/new-affiliates.json").json()
    assert len(data["labels"]) == 30 and len(data["data"]) == 30
    assert data["data"][-1] == 2 and sum(data["data"]) == 2  # alpha's two affiliates joined today


def test_operator_approves_a_pending_affiliate_with_htmx(world, web):
    affiliate = world.a.affiliate2
    affiliate.status = PartyStatus.PENDING
    affiliate.save()
    response = web("a", "staff").post(f"/operator/affiliates/{affiliate.pk}/status", {"status": "active"},
                                      HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<tr" in response.content and b"Suspend" in response.content
    affiliate.refresh_from_db()
    assert affiliate.status == PartyStatus.ACTIVE
    assert AuditLog.objects.filter(action="affiliate.active", target_id=str(affiliate.pk)).exists()
    [message] = mail.outbox
    assert message.to == ["deals@alpha.test"] and "approved" in message.subject
    assert "http://testserver/accounts/login/" in message.body


def test_declining_a_pending_affiliate_tells_it_and_suspending_an_active_one_is_silent(world, web):
    affiliate = world.a.affiliate2
    affiliate.status = PartyStatus.PENDING
    affiliate.save()
    client = web("a", "owner")
    client.post(f"/operator/affiliates/{affiliate.pk}/status", {"status": "suspended"})
    assert len(mail.outbox) == 1 and "declined" in mail.outbox[0].subject
    client.post(f"/operator/affiliates/{world.a.affiliate.pk}/status", {"status": "suspended"})
    client.post(f"/operator/advertisers/{world.a.advertiser.pk}/status", {"status": "suspended"})
    assert len(mail.outbox) == 1


def test_chart_days_are_the_networks_local_days(world, web):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    tz = ZoneInfo("Pacific/Kiritimati")  # UTC+14: a local day starts at 10:00 UTC the day before
    world.a.network.timezone = "Pacific/Kiritimati"
    world.a.network.save()
    local_midnight = datetime.combine(timezone.now().astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
    Affiliate.objects.filter(pk=world.a.affiliate.pk).update(created_at=local_midnight + timedelta(minutes=1))
    Affiliate.objects.filter(pk=world.a.affiliate2.pk).update(created_at=local_midnight - timedelta(minutes=1))
    data = web("a", "owner").get("/operator/charts/new-affiliates.json").json()
    assert data["timezone"] == "Pacific/Kiritimati"
    assert data["labels"][-1] == local_midnight.date().isoformat()
    assert data["data"][-1] == 1 and data["data"][-2] == 1


def test_approving_from_the_dashboard_queue_keeps_its_compact_row(world, web):
    affiliate = world.a.affiliate2
    affiliate.status = PartyStatus.PENDING
    affiliate.save()
    client = web("a", "owner")
    assert b'name="compact" value="1"' in client.get("/operator/").content
    row = client.post(f"/operator/affiliates/{affiliate.pk}/status", {"status": "active", "compact": "1"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert row.count("<td") == 3 and "Suspend" in row


def test_operator_suspends_an_advertiser_without_htmx(world, web):
    advertiser = world.a.advertiser
    response = web("a", "owner").post(f"/operator/advertisers/{advertiser.pk}/status", {"status": "suspended"})
    assert response.status_code == 302
    advertiser.refresh_from_db()
    assert advertiser.status == PartyStatus.SUSPENDED and not advertiser.membership.is_active


def test_status_of_another_networks_party_is_404_and_unchanged(world, web):
    for url in (f"/operator/affiliates/{world.b.affiliate.pk}/status",
                f"/operator/advertisers/{world.b.advertiser.pk}/status"):
        assert web("a", "owner").post(url, {"status": "suspended"}).status_code == 404
    assert Affiliate.objects.get(pk=world.b.affiliate.pk).status == PartyStatus.ACTIVE
    assert Advertiser.objects.get(pk=world.b.advertiser.pk).status == PartyStatus.ACTIVE


def test_unknown_status_is_400(world, web):
    response = web("a", "owner").post(f"/operator/affiliates/{world.a.affiliate.pk}/status", {"status": "pending"})
    assert response.status_code == 400
    world.a.affiliate.refresh_from_db()
    assert world.a.affiliate.status == PartyStatus.ACTIVE


def test_party_cannot_change_statuses(world, web):
    response = web("a", "affiliate").post(f"/operator/affiliates/{world.a.affiliate2.pk}/status",
                                          {"status": "suspended"})
    assert response.status_code == 403


def test_affiliates_filter_by_status_and_search(world, web):
    world.a.affiliate2.status = PartyStatus.PENDING
    world.a.affiliate2.save()
    page = web("a", "owner").get("/operator/affiliates/?status=pending").content.decode()
    assert "Alpha Deals" in page and "Alpha Blog" not in page and "Approve" in page
    page = web("a", "owner").get("/operator/affiliates/?q=blog").content.decode()
    assert "Alpha Blog" in page and "Alpha Deals" not in page
    page = web("a", "owner").get("/operator/affiliates/?status=suspended").content.decode()
    assert "Nothing matches this filter" in page


def test_announcement_is_created_and_bad_input_stays_next_to_the_field(world, web):
    client = web("a", "owner")
    response = client.post("/operator/announcements/", {"audience": "affiliates", "title": "", "body": "x"})
    assert response.status_code == 400 and b"This field is required." in response.content
    response = client.post("/operator/announcements/", {"audience": "everyone?", "title": "T", "body": "x"})
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert not Announcement.objects.exists()
    response = client.post("/operator/announcements/",
                           {"audience": "affiliates", "title": "Double payouts", "body": "All of May."})
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert announcement.network_id == world.a.network.pk and announcement.created_by == world.a.owner.user
    assert b"Double payouts" in client.get("/operator/announcements/").content
    assert b"Double payouts" not in web("b", "owner").get("/operator/announcements/").content


def test_csrf_is_enforced_on_operator_forms(world):
    client = web_client(world.a.owner, enforce_csrf_checks=True)
    data = {"audience": "all", "title": "Hello", "body": "x"}
    assert client.post("/operator/announcements/", data).status_code == 403
    assert not Announcement.objects.exists()
    client.get("/operator/announcements/")
    token = client.cookies["csrftoken"].value
    assert client.post("/operator/announcements/", data | {"csrfmiddlewaretoken": token}).status_code == 302
    assert Announcement.objects.count() == 1


def settings_data(**overrides):
    return {
        "name": "Alpha Network", "default_currency": "USD", "timezone": "Europe/Paris",
        "affiliate_approval_required": "on", "click_retention_days": "120",
    } | overrides


def test_settings_are_saved_and_leave_the_payout_settings_to_the_payouts_page(world, web):
    payout = {"schedule": {"kind": "weekly", "weekday": 2, "day": 1}, "thresholds": {}, "fee": {}}
    Network.objects.filter(pk=world.a.network.pk).update(payout_settings=payout)
    # A payout field posted here (an old form) is ignored: the payouts app owns that JSON.
    response = web("a", "owner").post("/operator/settings/", settings_data(payout_schedule="monthly"))
    assert response.status_code == 302
    network = Network.objects.get(pk=world.a.network.pk)
    assert (network.default_currency, network.timezone, network.click_retention_days) == ("USD", "Europe/Paris", 120)
    assert network.payout_settings == payout
    entry = AuditLog.objects.get(action="network.settings_changed")
    assert entry.data["default_currency"] == "USD" and entry.actor == world.a.owner.user
    assert "payout" not in entry.data
    page = web("a", "owner").get("/operator/settings/").content.decode()
    assert 'value="120"' in page and 'href="/operator/payouts/settings/"' in page
    assert "payout_schedule" not in page


@pytest.mark.parametrize(("overrides", "message"), [
    ({"default_currency": "EURO"}, "at most 3 characters"),
    ({"default_currency": "XYZ"}, "is not an ISO 4217 currency code"),
    ({"timezone": "Mars/Olympus"}, "Select a valid choice"),
    ({"click_retention_days": "0"}, "Between 1 and 3650 days"),
    ({"click_retention_days": "abc"}, "Enter a whole number"),
])
def test_bad_settings_are_rejected_next_to_the_field_and_change_nothing(world, web, overrides, message):
    response = web("a", "owner").post("/operator/settings/", settings_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    network = Network.objects.get(pk=world.a.network.pk)
    assert network.default_currency == "EUR" and network.payout_settings == {}
    assert not AuditLog.objects.filter(action="network.settings_changed").exists()


def test_audit_log_lists_only_this_networks_entries_and_filters(world, web):
    from network.services import audit_log_record

    audit_log_record(network=world.b.network, actor=None, action="bravo.only")
    audit_log_record(network=world.a.network, actor=world.a.owner.user, action="alpha.only")
    page = web("a", "owner").get("/operator/audit/").content.decode()
    assert "alpha.only" in page and "owner@alpha.test" in page and "bravo.only" not in page
    page = web("a", "owner").get("/operator/audit/?action=affiliate.").content.decode()
    assert "affiliate.created" in page and "advertiser.created" not in page
    assert web("a", "owner").get("/operator/audit/?page=99").status_code == 200
