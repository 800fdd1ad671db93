"""Rebuilding the day tables after a time zone change: the settings page queues it, its progress fragment (htmx
polls it while it runs), a failure and its retry, and `manage.py rebuild_daily_figures`."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from commissions.services import commissions_for_conversion
from network.models import DayRebuild, Network
from reports.demo import as_of
from tests.pages import web_client
from tests.tracking.conversions_support import make_shop
from tracking.services import conversion_record

PAGE = "/operator/settings/"
FRAGMENT = "/operator/settings/day-rebuild"
LATE = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # the 10th in UTC, 00:30 on the 11th in Berlin


def settings_data(network, **overrides):
    return {
        "name": network.name, "default_currency": network.default_currency, "timezone": network.timezone,
        "affiliate_approval_required": "on", "click_retention_days": str(network.click_retention_days),
    } | overrides


def conversions_by_day(tenant) -> dict:
    response = tenant.client("owner").get("/api/v1/reports", {"group_by": "day", "date_from": "2026-11-10",
                                                              "date_to": "2026-11-11"})
    assert response.status_code == 200, response.content
    body = response.json()
    return {"timezone": body["timezone"], **{row["key"]: row["conversions"] for row in body["rows"]}}


def late_sale(tenant, moment=LATE):
    """A coupon sale (by default at 23:30 UTC on the 10th) through the services: they keep the day tables."""
    shop = make_shop(tenant)
    with as_of(moment):
        recorded = conversion_record(network=tenant.network, advertiser=tenant.advertiser, order_id="LATE-1",
                                     amount=Decimal("50.00"), currency="EUR", coupon=shop.coupon.code)
        commissions_for_conversion(conversion_id=recorded.conversion.pk)


def running(network, **fields) -> DayRebuild:
    return DayRebuild.objects.create(
        network=network, **{"timezone": "Europe/Berlin", "status": DayRebuild.Status.RUNNING, "done": 2, "total": 5}
        | fields)


def test_changing_the_time_zone_rebuilds_the_days_in_the_new_zone_once(world, web,
                                                                       django_capture_on_commit_callbacks):
    late_sale(world.a)
    assert conversions_by_day(world.a) == {"timezone": "UTC", "2026-11-10": 1, "2026-11-11": 0}
    with django_capture_on_commit_callbacks(execute=True):
        response = web("a", "owner").post(PAGE, settings_data(world.a.network, timezone="Europe/Berlin"))
    assert response.status_code == 302
    rebuild = DayRebuild.objects.get()
    assert (rebuild.network, rebuild.timezone, rebuild.status) == (world.a.network, "Europe/Berlin", "done")
    assert rebuild.done == rebuild.total > 0 and rebuild.finished_at is not None
    assert conversions_by_day(world.a) == {"timezone": "Europe/Berlin", "2026-11-10": 0, "2026-11-11": 1}
    # The page says so once; the next visit shows nothing of it.
    page = web("a", "owner").get(PAGE).content.decode()
    assert "Report figures recomputed for Europe/Berlin at" in page and "hx-trigger" not in page
    assert 'id="day-rebuild"' not in web("a", "owner").get(PAGE).content.decode()


def test_saving_the_settings_without_a_new_time_zone_queues_no_rebuild(world, web,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = web("a", "owner").post(PAGE, settings_data(world.a.network, name="Alpha Renamed"))
    assert response.status_code == 302
    assert Network.objects.get(pk=world.a.network.pk).name == "Alpha Renamed"
    assert not DayRebuild.objects.exists()
    assert 'id="day-rebuild"' not in web("a", "owner").get(PAGE).content.decode()


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_a_running_rebuild_shows_its_steps_and_polls(world, web, role):
    running(world.a.network)
    for url in (FRAGMENT, PAGE):
        response = web("a", role).get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Recomputing report figures for Europe/Berlin: 2 of 5 steps" in page
        assert '<progress value="2" max="5"' in page
        assert f'hx-get="{FRAGMENT}" hx-trigger="every 2s"' in page
        assert "reports may show some days in the old time zone" in page


def test_a_queued_rebuild_waits_and_polls(world, web):
    DayRebuild.objects.create(network=world.a.network, timezone="Asia/Tokyo")
    page = web("a", "owner").get(FRAGMENT).content.decode()
    assert "Recomputing report figures for Asia/Tokyo: waiting to start." in page and "hx-trigger" in page


def test_a_finished_rebuild_stops_polling_and_gives_the_time_in_the_networks_zone(world, web):
    Network.objects.filter(pk=world.a.network.pk).update(timezone="Europe/Berlin")
    running(world.a.network, status=DayRebuild.Status.DONE, done=5, finished_at=LATE)
    response = web("a", "owner").get(FRAGMENT)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Report figures recomputed for Europe/Berlin at Nov 11, 2026, 12:30\u202fAM." in page
    assert "hx-get" not in page and "<progress" not in page
    # Finished long ago: the settings page no longer mentions it.
    assert 'id="day-rebuild"' not in web("a", "owner").get(PAGE).content.decode()


@pytest.mark.parametrize("role", ["advertiser", "affiliate"])
def test_parties_may_not_see_or_retry_a_rebuild(world, web, role):
    running(world.a.network, status=DayRebuild.Status.FAILED, error="boom")
    assert web("a", role).get(FRAGMENT).status_code == 403
    assert web("a", role).post(FRAGMENT).status_code == 403
    assert DayRebuild.objects.count() == 1


def test_another_networks_rebuild_is_never_shown(world, web):
    running(world.b.network, timezone="America/Chicago", status=DayRebuild.Status.FAILED, error="bravo's error")
    fragment = web("a", "owner").get(FRAGMENT).content.decode()
    assert "America/Chicago" not in fragment and "bravo" not in fragment and "Recomputing" not in fragment
    page = web("a", "owner").get(PAGE).content.decode()
    assert 'id="day-rebuild"' not in page and "bravo" not in page and "Recomputing" not in page
    # Nor retried from network a.
    assert web("a", "owner").post(FRAGMENT).status_code == 302
    assert DayRebuild.objects.count() == 1
    assert "bravo&#x27;s error" in web("b", "owner").get(FRAGMENT).content.decode()


def test_a_failed_rebuild_shows_its_error_and_a_retry_that_queues_a_new_one(world, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    late_sale(world.a)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("reports.rebuild._step", broken)
    client = web_client(world.a.owner, enforce_csrf_checks=True)
    client.get(PAGE)
    token = client.cookies["csrftoken"].value
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE, settings_data(world.a.network, timezone="Europe/Berlin", csrfmiddlewaretoken=token))
    failed = DayRebuild.objects.get()
    assert (failed.status, failed.error, failed.done) == ("failed", "the disk is full", 0)
    page = client.get(PAGE).content.decode()
    assert "Recomputing report figures for Europe/Berlin failed: the disk is full" in page
    assert f'<form method="post" action="{FRAGMENT}"' in page and "Retry</button>" in page
    assert "hx-trigger" not in page  # a failure is not polled
    monkeypatch.undo()

    assert client.post(FRAGMENT).status_code == 403  # no CSRF token
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FRAGMENT, {"csrfmiddlewaretoken": token}, HTTP_HX_REQUEST="true")
    # The fragment answers as the retry commits: queued, polled until it runs (here at once, Celery being eager).
    assert response.status_code == 200
    assert "Recomputing report figures for Europe/Berlin: waiting to start." in response.content.decode()
    assert "hx-trigger" in response.content.decode()
    retry = DayRebuild.objects.first()
    assert retry.pk != failed.pk and (retry.timezone, retry.status) == ("Europe/Berlin", "done")
    assert "Report figures recomputed for Europe/Berlin at" in client.get(FRAGMENT).content.decode()
    assert conversions_by_day(world.a) == {"timezone": "Europe/Berlin", "2026-11-10": 0, "2026-11-11": 1}
    # Nothing failed any more: a second retry queues nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(FRAGMENT, {"csrfmiddlewaretoken": token}).status_code == 302
    assert DayRebuild.objects.count() == 2


def test_the_command_names_its_steps_and_records_the_rebuild(world):
    late_sale(world.a, LATE - timedelta(days=90))  # months of days: several steps
    out = io.StringIO()
    call_command("rebuild_daily_figures", network=["alpha"], stdout=out)
    rebuild = DayRebuild.objects.get()
    assert rebuild.network == world.a.network and rebuild.status == "done" and rebuild.total >= 2
    lines = out.getvalue().splitlines()
    assert len(lines) == rebuild.total + 1
    assert lines[0].startswith(f"alpha: step 1 of {rebuild.total}, 2026-08-")
    assert lines[-2].startswith(f"alpha: step {rebuild.total} of {rebuild.total}, ")
    assert lines[-1].startswith(f"alpha: {rebuild.total} steps of days in UTC, ")
    assert not any(line.startswith("bravo") for line in lines)


def test_the_command_refuses_an_unknown_network(world):
    with pytest.raises(CommandError, match="No network nowhere"):
        call_command("rebuild_daily_figures", network=["alpha", "nowhere"], stdout=io.StringIO())
    assert not DayRebuild.objects.exists()


def test_a_recent_finished_rebuild_is_shown_once_a_session(world, web):
    running(world.a.network, status=DayRebuild.Status.DONE, done=5, finished_at=timezone.now() - timedelta(minutes=5))
    assert "Report figures recomputed for Europe/Berlin" in web("a", "owner").get(PAGE).content.decode()
    assert "Report figures recomputed" not in web("a", "owner").get(PAGE).content.decode()
    assert "Report figures recomputed for Europe/Berlin" in web("a", "staff").get(PAGE).content.decode()
