"""Caps and budgets on the commissions written (the one writer every conversion path ends in): hold, reject and
pause past a cap, a partnership's own caps, periods in the network's time zone, the 80 % / 100 % alerts once,
the explanation, and refunds that do not give a place back."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone

from commissions.explain import commission_explanation
from commissions.models import Account, Commission
from commissions.services import commissions_reverse_for_refund
from programs import caps
from programs.models import CapCounter, Partnership, Program
from tests.commissions.helpers import assert_ledger_consistent, convert, owed
from tests.factories import make_link, make_partnership, make_program
from tests.tracking.clicks_support import direct_clicks, visit  # noqa: F401 (a fixture)
from tracking import clicks
from tracking.models import Click, Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
Status = Commission.Status
FIXED_10 = [{"event": "sale", "kind": "fixed", "payout": Decimal("10")}]


def shop(tenant, caps_value=None, **fields):
    program = make_program(tenant.advertiser, rules=FIXED_10, caps=caps_value,
                           fallback_url=fields.pop("fallback_url", ""), **fields)
    link = make_link(make_partnership(program, tenant.affiliate))
    link2 = make_link(make_partnership(program, tenant.affiliate2))
    return program, link, link2


def sell(tenant, link, n, start=0, **fields):
    return [convert(tenant, link, f"O-{link.pk}-{start + i}", "50.00", **fields)[1][0] for i in range(n)]


def test_hold_past_a_daily_cap_records_the_sale_and_holds_its_commission_with_the_reason(world):
    program, link, link2 = shop(world.a, {"conversions_day": 2, "action": "hold"})
    made = sell(world.a, link, 2) + sell(world.a, link2, 1)
    assert [c.status for c in made] == [Status.PENDING, Status.PENDING, Status.ON_HOLD]
    held = made[2]
    assert "cap of 2 conversions per day" in held.reason and held.reason.startswith("Held for review")
    assert held.rule_snapshot["cap"]["exceeded"] == "conversions_day"
    # Held, still owed until decided: posted like any pending commission.
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate2) == Decimal("10.00")
    counter = CapCounter.objects.get(program=program, partnership=None, period="day")
    assert counter.conversions == 2
    explanation = commission_explanation(held, party="affiliate")
    assert explanation["cap"]["exceeded"] == "conversions_day"
    assert "the program's cap of 2 conversions per day" in explanation["cap"]["reason"]
    assert "held for the advertiser's review" in explanation["cap"]["reason"]
    assert explanation["history"][0]["status"] == Status.ON_HOLD
    counted = commission_explanation(made[0], party="advertiser")["cap"]
    assert counted["exceeded"] is None and "1 of 2" in counted["reason"]
    # The advertiser decides what its own cap held (fraud holds stay the operators').
    assert world.a.client("advertiser").post(f"/api/v1/commissions/{held.pk}/approve").status_code == 200
    held.refresh_from_db()
    assert held.status == Status.APPROVED
    assert_ledger_consistent()


def test_reject_past_a_monthly_cap_records_the_sale_with_no_commission_owed(world):
    program, link, _ = shop(world.a, {"conversions_month": 1, "action": "reject"})
    first, second = sell(world.a, link, 2)
    assert first.status == Status.PENDING
    assert second.status == Status.REJECTED and second.rejected_at is not None
    assert "cap of 1 conversions per month" in second.reason and second.reason.startswith("Rejected")
    assert owed(Account.Kind.AFFILIATE_PENDING, world.a.affiliate) == Decimal("10.00")  # the first only
    assert "earns nothing" in commission_explanation(second, party="affiliate")["cap"]["reason"]
    assert second.conversion.status == "accepted"  # the sale itself is recorded as it came
    assert_ledger_consistent()


def test_payout_budget_takes_commissions_while_they_fit(world):
    program, link, _ = shop(world.a, {"payout_month": "25.00", "action": "reject"})
    made = sell(world.a, link, 3)
    assert [c.status for c in made] == [Status.PENDING, Status.PENDING, Status.REJECTED]
    assert "payout budget of 25.00 EUR per month" in made[2].reason
    status = caps.caps_status(program=program)
    assert status["payout_month"]["used"] == "20.00" and status["payout_month"]["remaining"] == "5.00"
    assert status["conversions_day"] is None


def test_pause_stops_clicks_at_the_cap_until_the_period_ends(world, monkeypatch, direct_clicks):  # noqa: F811
    program, link, _ = shop(world.a, {"conversions_day": 1, "action": "pause"},
                            fallback_url="https://shop.example.com/sold-out")
    assert visit(f"/c/{link.code}").status == 302  # warm: the pause must drop the cached program
    (first,) = sell(world.a, link, 1)
    assert first.status == Status.PENDING  # the sale that fills the cap earns
    program.refresh_from_db()
    tz = caps.zoneinfo.ZoneInfo(world.a.network.timezone)
    end = caps.period_end(caps.period_start(timezone.now(), tz, "day"), tz, "day")
    assert program.caps_paused_until == end
    clicks_before = Click.objects.count()
    answer = visit(f"/c/{link.code}")
    assert (answer.status, answer.location) == (302, "https://shop.example.com/sold-out")
    assert "Set-Cookie" not in answer.headers and Click.objects.count() == clicks_before
    # Without a fallback URL: the landing page, without a click id.
    Program.objects.filter(pk=program.pk).update(fallback_url="")
    clicks.clear_local_cache()
    from django.core.cache import cache
    cache.clear()
    answer = visit(f"/c/{link.code}")
    assert (answer.status, answer.location) == (302, "https://shop.example.com/")
    # A sale from an earlier click past the cap: held.
    (late,) = sell(world.a, link, 1, start=1)
    assert late.status == Status.ON_HOLD and "paused" in commission_explanation(late, party="advertiser")["cap"][
        "reason"]
    # The period ends: clicks are taken again (the cached pause carries its own end).
    monkeypatch.setattr("tracking.redirect.time", SimpleNamespace(time=lambda: end.timestamp() + 1))
    answer = visit(f"/c/{link.code}")
    assert answer.status == 302 and "click_id=" in answer.location


def test_a_partnerships_own_caps_replace_the_programs_for_its_conversions(world, direct_clicks):  # noqa: F811
    program, link, link2 = shop(world.a, {"conversions_day": 1, "action": "pause"},
                                fallback_url="https://shop.example.com/sold-out")
    Partnership.objects.filter(pk=link.partnership_id).update(caps={"conversions_day": 3, "action": "reject"})
    made = sell(world.a, link, 4)
    assert [c.status for c in made] == [Status.PENDING] * 3 + [Status.REJECTED]
    assert made[3].rule_snapshot["cap"]["scope"] == "partnership"
    assert "the partnership's cap of 3" in made[3].reason
    # The program's cap still has its place for the others, and its pause does not stop the partnership's links.
    (other,) = sell(world.a, link2, 1)
    assert other.status == Status.PENDING
    assert Program.objects.get(pk=program.pk).caps_paused_until is not None
    assert visit(f"/c/{link2.code}").location == "https://shop.example.com/sold-out"
    assert "click_id=" in visit(f"/c/{link.code}").location
    partnership = Partnership.objects.get(pk=link.partnership_id)
    assert caps.caps_status(program=program, partnership=partnership)["conversions_day"]["remaining"] == 0
    assert caps.caps_status(program=program)["conversions_day"]["used"] == 1


def test_days_and_months_are_the_networks_local_ones(world):
    world.a.network.timezone = "America/New_York"
    world.a.network.save()
    program, link, _ = shop(world.a, {"conversions_day": 1, "conversions_month": 2, "action": "reject"})
    # 23:30 and 00:30 New York time on 31 January / 1 February: the same UTC day, two local days and months.
    before = datetime(2026, 2, 1, 4, 30, tzinfo=UTC)
    after = datetime(2026, 2, 1, 5, 30, tzinfo=UTC)
    first = sell(world.a, link, 1, created_at=before)[0]
    second = sell(world.a, link, 1, start=1, created_at=after)[0]
    third = sell(world.a, link, 1, start=2, created_at=after + timedelta(hours=1))[0]
    assert [first.status, second.status, third.status] == [Status.PENDING, Status.PENDING, Status.REJECTED]
    rows = {(r.period, r.period_start.isoformat()): r.conversions
            for r in CapCounter.objects.filter(program=program)}
    assert rows == {("day", "2026-01-31"): 1, ("month", "2026-01-01"): 1, ("day", "2026-02-01"): 1,
                    ("month", "2026-02-01"): 1}
    assert third.rule_snapshot["cap"]["period_start"] == "2026-02-01"
    assert third.rule_snapshot["cap"]["period_end"] == "2026-02-02T05:00:00+00:00"  # local midnight, EST


def test_alerts_at_80_and_100_percent_are_sent_once_per_period(world, django_capture_on_commit_callbacks,
                                                               monkeypatch):
    monkeypatch.setattr("tracking.outbound._queue", lambda ids, networks: None)  # written, not sent
    endpoint = WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                              url="https://shop.test/in", events=["program.cap_reached"])
    program, link, _ = shop(world.a, {"conversions_day": 5, "action": "hold"})
    with django_capture_on_commit_callbacks(execute=True):
        sell(world.a, link, 3)
    assert not Delivery.objects.filter(event="program.cap_reached").exists()
    with django_capture_on_commit_callbacks(execute=True):
        sell(world.a, link, 1, start=3)  # 4 of 5: 80 %
    with django_capture_on_commit_callbacks(execute=True):
        sell(world.a, link, 4, start=4)  # 5 of 5, then three past the cap
    bodies = [json.loads(d.body)["data"] for d in Delivery.objects.filter(endpoint=endpoint).order_by("pk")]
    assert [(b["cap"], b["level"], b["used"], b["limit"]) for b in bodies] == [
        ("conversions_day", 80, "4", "5"), ("conversions_day", 100, "5", "5")]
    assert bodies[0]["program"] == program.pk and bodies[0]["action"] == "hold" and bodies[0]["period"] == "day"
    alerts = [m for m in mail.outbox if "conversions per day" in m.subject]
    assert [m.to for m in alerts] == [[world.a.advertiser.email]] * 2
    assert "80 % used" in alerts[0].subject and "reached" in alerts[1].subject
    assert "held for review" in alerts[1].body


def test_a_budget_passed_by_one_commission_alerts_100_percent(world, monkeypatch):
    monkeypatch.setattr("tracking.outbound._queue", lambda ids, networks: None)
    WebhookEndpoint.objects.create(network=world.a.network, url="https://ops.test/in", events=["*"])
    program, link, _ = shop(world.a, {"payout_month": "15", "action": "reject"})
    sell(world.a, link, 2)  # 10 of 15 (66 %), then 20 > 15: refused, the budget is reached
    levels = [json.loads(d.body)["data"]["level"] for d in Delivery.objects.filter(event="program.cap_reached")]
    assert levels == [100]


def test_refunds_do_not_give_a_place_back(world):
    program, link, _ = shop(world.a, {"conversions_day": 1, "action": "reject"})
    (first,) = sell(world.a, link, 1)
    commissions_reverse_for_refund(conversion=first.conversion, amount=Decimal("50.00"))
    (second,) = sell(world.a, link, 1, start=1)
    assert second.status == Status.REJECTED
    assert CapCounter.objects.get(program=program, period="day").conversions == 1


def test_no_caps_count_nothing(world):
    program, link, _ = shop(world.a, None)
    assert [c.status for c in sell(world.a, link, 3)] == [Status.PENDING] * 3
    assert not CapCounter.objects.exists()
    assert "cap" not in Commission.objects.first().rule_snapshot
    assert caps.caps_status(program=program) is None


def test_raising_a_reached_pause_cap_takes_clicks_again(world):
    from programs.services import program_update

    program, link, _ = shop(world.a, {"conversions_day": 1, "action": "pause"})
    sell(world.a, link, 1)
    program.refresh_from_db()
    assert program.caps_paused_until is not None
    program = program_update(network=world.a.network, program=program, actor=None,
                             caps={"conversions_day": 2, "conversions_month": None, "payout_month": None,
                                   "action": "pause"})
    assert Program.objects.get(pk=program.pk).caps_paused_until is None


def test_period_bounds_follow_the_time_zone():
    tz = caps.zoneinfo.ZoneInfo("Asia/Tokyo")
    moment = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 00:30 on 1 January in Tokyo
    assert caps.period_start(moment, tz, "day").isoformat() == "2027-01-01"
    assert caps.period_start(moment, tz, "month").isoformat() == "2027-01-01"
    assert caps.period_end(caps.period_start(moment, tz, "month"), tz, "month") == datetime(
        2027, 1, 31, 15, 0, tzinfo=UTC)
    assert caps.period_end(datetime(2026, 12, 1).date(), tz, "month") == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)


def test_caps_set_in_the_middle_of_a_period_count_what_was_already_delivered(world):
    program, link, link2 = shop(world.a, None)
    sell(world.a, link, 2)
    client = world.a.client("advertiser")
    response = client.patch(f"/api/v1/programs/{program.pk}",
                            {"caps": {"conversions_day": 3, "payout_month": "100", "action": "reject"}}, format="json")
    assert response.status_code == 200
    status = response.json()["caps_status"]
    assert status["conversions_day"]["used"] == "2" and status["payout_month"]["used"] == "20.00"
    assert [c.status for c in sell(world.a, link2, 2)] == [Status.PENDING, Status.REJECTED]
    # A partnership given its own caps starts from its own deliveries.
    response = client.patch(f"/api/v1/partnerships/{link.partnership_id}",
                            {"caps": {"conversions_day": 5}}, format="json")
    assert response.json()["caps_status"]["conversions_day"]["used"] == "2"
