"""Tracking domains prove ownership (the TXT token at `_affiliate-verify.<domain>` besides the CNAME), are
re-checked daily (unverified after repeated failures: links fall back to the platform's address, the owner is
e-mailed), show the last check in the network's zone, and are verified by one network at most, even at once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from network import domains, hosts
from network.models import AuditLog, TrackingDomain, VerifiedDomain
from tests.conftest import make_tenant
from tests.dns_support import patch_dns

pytestmark = pytest.mark.django_db

TARGET = "trk.platform.test"
DOMAIN = "trk.alpha.example"


@pytest.fixture
def dns(settings, monkeypatch):
    """CNAMEs resolve as `records` says; TXT records are exactly `txt` (name -> values)."""
    settings.TRACKING_CNAME_TARGET = TARGET
    records = patch_dns(monkeypatch, TARGET)
    txt = {}
    monkeypatch.setattr(domains, "txt_records", lambda name: txt.get(name, []))
    return records, txt


def _add(tenant, domain=DOMAIN, role="owner", **extra):
    response = tenant.client(role).post("/api/v1/tracking-domains", {"domain": domain, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _verify(tenant, row, role="owner"):
    return tenant.client(role).post(f"/api/v1/tracking-domains/{row['id']}/verify")


def _published(dns, row, domain=DOMAIN):
    records, txt = dns
    records[domain] = (TARGET, frozenset({"192.0.2.10"}))
    txt[f"_affiliate-verify.{domain}"] = ["v=other", row["challenge_token"]]


def test_the_answer_names_the_txt_record_and_a_token_of_its_own(world, dns):
    first, second = _add(world.a), _add(world.b)
    assert first["challenge_name"] == f"_affiliate-verify.{DOMAIN}"
    assert len(first["challenge_token"]) == 32 and first["challenge_token"] != second["challenge_token"]
    assert first["checked_at"] is None and first["check_error"] == "" and first["failed_checks"] == 0


def test_the_cname_alone_does_not_verify(world, dns):
    records, txt = dns
    row = _add(world.a)
    records[DOMAIN] = (TARGET, frozenset({"192.0.2.10"}))
    response = _verify(world.a, row)
    assert response.status_code == 400
    detail = response.json()["detail"][0]
    assert f"TXT record _affiliate-verify.{DOMAIN}" in detail and row["challenge_token"] in detail
    stored = TrackingDomain.objects.get(pk=row["id"])
    assert stored.verified_at is None and stored.checked_at is None  # a refused verify records nothing
    assert not VerifiedDomain.objects.exists()
    # Another network's token (or another value) is not this domain's proof.
    other = _add(world.b)
    txt[f"_affiliate-verify.{DOMAIN}"] = [other["challenge_token"]]
    assert _verify(world.a, row).status_code == 400
    txt[f"_affiliate-verify.{DOMAIN}"] = [row["challenge_token"]]
    verified = _verify(world.a, row)
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert verified.json()["check_error"] == "" and verified.json()["checked_at"]
    assert VerifiedDomain.objects.get(domain=DOMAIN).network_id == world.a.network.pk


def test_the_txt_token_alone_does_not_verify_either(world, dns):
    row = _add(world.a)
    _published(dns, row)
    dns[0].pop(DOMAIN)
    response = _verify(world.a, row)
    assert response.status_code == 400 and "does not resolve" in response.json()["detail"][0]
    assert TrackingDomain.objects.get(pk=row["id"]).verified_at is None


def test_a_name_verified_by_one_network_cannot_be_added_or_verified_by_another_until_deleted(world, dns):
    a_row, b_row = _add(world.a), _add(world.b)
    _published(dns, a_row)
    assert _verify(world.a, a_row).status_code == 200
    dns[1][f"_affiliate-verify.{DOMAIN}"].append(b_row["challenge_token"])
    late = _verify(world.b, b_row)
    assert late.status_code == 400 and "already in use" in late.json()["detail"][0]
    assert TrackingDomain.objects.get(pk=b_row["id"]).verified_at is None
    c = make_tenant("charlie")
    refused = c.client("owner").post("/api/v1/tracking-domains", {"domain": DOMAIN}, format="json")
    assert refused.status_code == 400 and "already in use" in refused.json()["domain"][0]
    assert world.a.client("owner").delete(f"/api/v1/tracking-domains/{a_row['id']}").status_code == 204
    assert not VerifiedDomain.objects.exists()
    assert _verify(world.b, b_row).status_code == 200
    assert VerifiedDomain.objects.get(domain=DOMAIN).network_id == world.b.network.pk


# --- the daily re-check ------------------------------------------------------------------------------------------
DAY = datetime(2026, 11, 2, 4, 17, tzinfo=UTC)


def _verified_domain(world, dns, **extra):
    row = _add(world.a, **extra)
    _published(dns, row)
    assert _verify(world.a, row).status_code == 200
    TrackingDomain.objects.filter(pk=row["id"]).update(checked_at=DAY)  # verified the day before the checks
    return TrackingDomain.objects.get(pk=row["id"])


@pytest.fixture
def recheck_on(monkeypatch, django_capture_on_commit_callbacks):
    """`recheck_on(n)`: the daily task's run n days after the verification (e-mails sent on commit)."""
    def run(day: int) -> int:
        moment = DAY + timedelta(days=day)
        monkeypatch.setattr(domains.timezone, "now", lambda: moment)
        with django_capture_on_commit_callbacks(execute=True):
            return domains.tracking_domains_recheck(now=moment)
    return run


def test_a_domain_failing_three_daily_checks_is_unverified_and_its_links_fall_back(world, dns, recheck_on, settings):
    settings.TRACKING_DOMAIN_MAX_FAILED_CHECKS = 3
    row = _verified_domain(world, dns)
    assert hosts.tracking_base_url(network_id=world.a.network.pk) == f"https://{DOMAIN}"
    dns[0][DOMAIN] = ("parked.registrar.example", frozenset({"198.51.100.7"}))  # the CNAME was changed
    for day, failed in ((1, 1), (2, 2)):
        assert recheck_on(day) == 1
        row.refresh_from_db()
        assert row.verified and row.failed_checks == failed and "parked.registrar.example" in row.check_error
        assert row.checked_at == DAY + timedelta(days=day)
        assert mail.outbox == []
    assert hosts.tracking_base_url(network_id=world.a.network.pk) == f"https://{DOMAIN}"
    assert recheck_on(3) == 1
    row.refresh_from_db()
    assert not row.verified and row.failed_checks == 3
    assert not VerifiedDomain.objects.exists()
    assert hosts.tracking_base_url(network_id=world.a.network.pk) != f"https://{DOMAIN}"
    assert hosts.domain_owner(DOMAIN) is None
    assert AuditLog.objects.filter(network=world.a.network, action="tracking_domain.unverified",
                                   target_id=str(row.pk)).exists()
    # The network's own domain: its owners are told (not its staff, not the other network's).
    assert [m.to for m in mail.outbox] == [[world.a.owner.user.email]]
    assert DOMAIN in mail.outbox[0].subject and "3 times in a row" in mail.outbox[0].body
    # Unverified domains are not re-checked: the owner fixes DNS and verifies again.
    assert recheck_on(4) == 0


def test_an_advertisers_domain_tells_its_advertiser_and_a_pass_resets_the_count(world, dns, recheck_on, settings):
    settings.TRACKING_DOMAIN_MAX_FAILED_CHECKS = 2
    row = _verified_domain(world, dns, advertiser=world.a.advertiser.pk)
    dns[1][f"_affiliate-verify.{DOMAIN}"] = []  # the TXT record was removed
    recheck_on(1)
    row.refresh_from_db()
    assert row.failed_checks == 1 and "TXT record" in row.check_error
    dns[1][f"_affiliate-verify.{DOMAIN}"] = [row.challenge_token]  # put back
    recheck_on(2)
    row.refresh_from_db()
    assert row.verified and row.failed_checks == 0 and row.check_error == ""
    dns[1][f"_affiliate-verify.{DOMAIN}"] = []
    recheck_on(3)
    recheck_on(4)
    row.refresh_from_db()
    assert not row.verified
    assert [m.to for m in mail.outbox] == [[world.a.advertiser.email]]


def test_a_rerun_the_same_day_checks_nothing_twice(world, dns, recheck_on):
    row = _verified_domain(world, dns)
    dns[0].pop(DOMAIN)
    assert recheck_on(1) == 1
    assert recheck_on(1) == 0  # a retry of the task
    row.refresh_from_db()
    assert row.failed_checks == 1


def test_the_page_shows_the_txt_record_and_the_last_check_in_the_networks_zone(world, dns, web):
    world.a.network.timezone = "Asia/Tokyo"
    world.a.network.save(update_fields=["timezone"])
    row = _add(world.a)
    TrackingDomain.objects.filter(pk=row["id"]).update(
        checked_at=datetime(2026, 11, 2, 23, 30, tzinfo=UTC), check_error="trk.alpha.example does not resolve.")
    page = web("a", "owner").get("/operator/settings/").content.decode()
    assert f"_affiliate-verify.{DOMAIN} TXT {row['challenge_token']}" in page
    assert "Nov 3, 2026, 8:30\u202fAM" in page and "Asia/Tokyo" in page  # 23:30 UTC is 08:30 the next day in Tokyo
    assert "trk.alpha.example does not resolve." in page
    # Network b's page shows none of it.
    assert row["challenge_token"] not in web("b", "owner").get("/operator/settings/").content.decode()
