"""Fraud signals that hit fraudsters, not buyers: self-referral is the buyer being the affiliate (its e-mail, or an
address its members signed in or called the API from), never the clicking visitor; IP velocity is flagged at
ingestion, counted in rollups and followed by the program's fraud policy; the review pages say it in words."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from commissions.models import Commission
from core.dates import format_when
from programs.models import Program
from tests.factories import make_link, make_partnership, make_program
from tests.pages import web_client
from tracking import clicks, ingest
from tracking.ids import click_id_time, new_click_id
from tracking.member_addresses import member_address_record, member_addresses_purge
from tracking.models import Click, ClickRollup, Conversion, MemberAddress

from .clicks_support import record_for
from .conversions_support import click_at, make_shop, post_conversion

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def shop(world):
    return make_shop(world.a, fraud_policy=Program.FraudPolicy.HOLD, velocity_max_clicks=2,
                     velocity_window_minutes=10)


def _records(link, minutes_ago: list[float], ip_hash="visitor-1"):
    now = timezone.now()
    return [record_for(link, new_click_id(int((now - timedelta(minutes=m)).timestamp() * 1000)), ip_hash=ip_hash)
            for m in minutes_ago]


# --- self-referral --------------------------------------------------------------------------------
def test_the_buyer_who_clicked_and_bought_from_one_address_is_not_a_self_referral(world, shop):
    click = click_at(shop.link, ip_hash=clicks.ip_hash("203.0.113.9"))
    body = post_conversion(world.a.client("advertiser"), click_id=click.click_id, customer_ip="203.0.113.9",
                           customer_email="buyer@example.com").json()
    assert body["fraud_signals"] == [] and body["signal_details"] == [] and body["status"] == "accepted"


def test_self_referral_when_the_buyer_email_is_the_affiliates_own(world, shop):
    body = post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id,
                           customer_email=" Blog@Alpha.test ").json()
    assert body["fraud_signals"] == ["self_referral"] and body["status"] == "held"
    assert body["signal_details"] == [{"code": "self_referral", "match": "affiliate_email",
                                       "affiliate": world.a.affiliate.pk}]
    assert "blog@alpha.test" not in str(Conversion.objects.get(pk=body["id"]).signal_details).lower()


def test_self_referral_when_the_buyer_address_is_one_an_affiliate_member_signed_in_from(world, shop):
    user = world.a.affiliate.membership.user
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    response = Client().post("/accounts/login/", {"login": user.email, "password": PASSWORD},
                             REMOTE_ADDR="198.51.100.61")
    assert response.status_code == 302
    [seen] = MemberAddress.objects.for_network(world.a.network)
    assert (seen.affiliate_id, seen.source) == (world.a.affiliate.pk, "sign_in")
    assert seen.address_hash == clicks.ip_hash("198.51.100.61") and "198.51.100" not in seen.address_hash
    body = post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id,
                           customer_ip="198.51.100.61").json()
    assert body["fraud_signals"] == ["self_referral"] and body["status"] == "held"
    [detail] = body["signal_details"]
    assert (detail["match"], detail["source"], detail["membership"]) == ("member_address", "sign_in",
                                                                        world.a.affiliate.membership_id)
    # Another affiliate's member at that address says nothing about this affiliate's sale.
    other = post_conversion(world.a.client("advertiser"), order_id="ORD-2", click_id=click_at(shop.link2).click_id,
                            customer_ip="198.51.100.61").json()
    assert other["fraud_signals"] == []


def test_self_referral_when_the_buyer_address_called_the_api_and_such_writes_are_throttled(world, shop):
    affiliate = world.a.client("affiliate")
    for _ in range(3):
        assert affiliate.get("/api/v1/me", REMOTE_ADDR="2001:db8::7").status_code == 200
    world.a.client("advertiser").get("/api/v1/me", REMOTE_ADDR="2001:db8::8")  # advertisers are not recorded
    [seen] = MemberAddress.objects.all()
    assert (seen.source, seen.network_id) == ("api", world.a.network.pk)
    first_seen = seen.last_seen_at
    affiliate.get("/api/v1/me", REMOTE_ADDR="2001:db8::7")
    seen.refresh_from_db()
    assert seen.last_seen_at == first_seen  # once a day per member and address, not every call
    body = post_conversion(world.a.client("advertiser"), click_id=click_at(shop.link).click_id,
                           customer_ip="2001:db8::7").json()
    assert body["fraud_signals"] == ["self_referral"]
    assert body["signal_details"][0]["source"] == "api"


def test_member_addresses_are_purged_with_the_networks_click_retention(world):
    now = timezone.now()
    member_address_record(membership=world.a.affiliate.membership, ip="198.51.100.1", source="api",
                          now=now - timedelta(days=91))
    member_address_record(membership=world.a.affiliate2.membership, ip="198.51.100.2", source="api",
                          now=now - timedelta(days=89))
    member_address_record(membership=world.b.affiliate.membership, ip="198.51.100.3", source="api",
                          now=now - timedelta(days=91))
    world.b.network.click_retention_days = 120
    world.b.network.save(update_fields=["click_retention_days"])
    assert member_addresses_purge(now=now) == 1
    remaining = set(MemberAddress.objects.values_list("affiliate_id", flat=True))
    assert remaining == {world.a.affiliate2.pk, world.b.affiliate.pk}


def test_the_retention_task_purges_member_addresses(world):
    from tracking.tasks_clicks import member_addresses_retention_purge

    member_address_record(membership=world.a.affiliate.membership, ip="198.51.100.1", source="sign_in",
                          now=timezone.now() - timedelta(days=100))
    assert member_addresses_retention_purge.delay().get() == 1
    assert not MemberAddress.objects.exists()


# --- IP velocity ----------------------------------------------------------------------------------
def test_velocity_is_flagged_at_ingestion_across_the_programs_links_and_batches(world, shop):
    other_link = make_link(shop.partnership, sub1="other")
    ingest.ingest_records(_records(shop.link, [9]))
    result = ingest.ingest_records(_records(other_link, [8, 5]) + _records(shop.link, [6], ip_hash="visitor-2"))
    assert result.velocity == 1
    flagged = dict(Click.objects.values_list("click_id", "velocity_count"))
    assert sorted(flagged.values()) == [0, 0, 0, 3]
    latest = Click.objects.filter(ip_hash="visitor-1").order_by("created_at").last()
    assert latest.velocity_count == 3 and latest.is_unique  # another link: no duplicate, yet too many clicks
    totals = ClickRollup.objects.aggregate(clicks=Sum("clicks"), velocity=Sum("velocity_clicks"))
    assert totals == {"clicks": 4, "velocity": 1}


def test_velocity_counts_only_the_window_and_the_program(world, shop):
    elsewhere = make_link(make_partnership(make_program(world.a.advertiser, name="Other"), world.a.affiliate))
    ingest.ingest_records(_records(shop.link, [30, 25, 5]) + _records(elsewhere, [4, 3, 2]))
    assert not Click.objects.filter(velocity_count__gt=0).exists()  # defaults elsewhere: 10 an hour
    ingest.ingest_records(_records(shop.link, [1]))
    assert list(Click.objects.filter(velocity_count__gt=0).values_list("velocity_count", flat=True)) == []
    ingest.ingest_records(_records(shop.link, [0.5]))
    assert list(Click.objects.filter(velocity_count__gt=0).values_list("velocity_count", flat=True)) == [3]


def test_a_busy_visitor_is_checked_for_duplicates_and_velocity_like_any_other(world, shop):
    """More stored clicks than one look-up reads whole (the limit and a few more): the exact look-ups answer."""
    other_link = make_link(shop.partnership, sub1="other")
    ingest.ingest_records(_records(shop.link, [9.5 - n * 0.5 for n in range(15)]))  # 9.5 to 2.5 minutes ago
    ingest.ingest_records(_records(shop.link, [2]) + _records(other_link, [0.1]) + _records(shop.link, [1],
                                                                                            ip_hash="visitor-2"))
    again, elsewhere = Click.objects.filter(ip_hash="visitor-1").order_by("-created_at")[:2][::-1]
    assert (again.link_id, again.is_unique) == (shop.link.pk, False)  # 30 s after the last stored one
    assert (elsewhere.link_id, elsewhere.is_unique) == (other_link.pk, True)
    assert again.velocity_count > 2 and elsewhere.velocity_count > 2
    fresh = Click.objects.get(ip_hash="visitor-2")
    assert fresh.is_unique and fresh.velocity_count == 0


def test_velocity_is_off_when_the_program_allows_any_number(world, shop):
    Program.objects.filter(pk=shop.program.pk).update(velocity_max_clicks=0)
    ingest.ingest_records(_records(shop.link, [5, 4, 3, 2, 1]))
    assert not Click.objects.filter(velocity_count__gt=0).exists()
    assert ClickRollup.objects.aggregate(v=Sum("velocity_clicks"))["v"] == 0


def test_a_redelivered_batch_is_not_counted_twice(world, shop):
    records = _records(shop.link, [5, 4])
    ingest.ingest_records(records)
    assert ingest.ingest_records(records + _records(shop.link, [1], ip_hash="visitor-2")).velocity == 0
    assert not Click.objects.filter(velocity_count__gt=0).exists()


@pytest.mark.parametrize(("policy", "status"), [("record", "accepted"), ("hold", "held"), ("reject", "rejected")])
@pytest.mark.parametrize("path", ["full", "fast"])
def test_a_velocity_clicks_conversion_follows_the_programs_policy(world, shop, policy, status, path):
    from network.models import ApiKey
    from network.services import hash_api_key

    Program.objects.filter(pk=shop.program.pk).update(fraud_policy=policy)
    ApiKey.objects.filter(hashed_key=hash_api_key(world.a.advertiser_key)).update(last_used_at=timezone.now())
    ingest.ingest_records(_records(shop.link, [9, 7, 5]))
    flagged = Click.objects.get(velocity_count=3)
    body = {"items": []} if path == "full" else {}  # `items` sends it down the full path
    response = post_conversion(world.a.client("advertiser"), click_id=flagged.click_id, **body).json()
    assert response["fraud_signals"] == ["velocity"] and response["status"] == status
    assert response["signal_details"] == [{"code": "velocity", "clicks": 3, "limit": 2, "window_minutes": 10}]
    assert Conversion.objects.get(pk=response["id"]).signal_details == response["signal_details"]


# --- settings -------------------------------------------------------------------------------------
def test_velocity_settings_through_the_api_with_sane_defaults_and_clear_errors(world, shop):
    client = world.a.client("advertiser")
    created = client.post("/api/v1/programs", {
        "name": "Defaults", "landing_url": "https://shop.example.com/", "currency": "EUR",
        "rules": [{"event": "sale", "kind": "percent", "payout": "10"}]}, format="json").json()
    assert (created["velocity_max_clicks"], created["velocity_window_minutes"]) == (10, 60)
    response = client.patch(f"/api/v1/programs/{created['id']}", {"velocity_max_clicks": 3,
                                                                 "velocity_window_minutes": 15}, format="json")
    assert response.status_code == 200
    assert (response.json()["velocity_max_clicks"], response.json()["velocity_window_minutes"]) == (3, 15)
    bad = client.patch(f"/api/v1/programs/{created['id']}", {"velocity_max_clicks": -1,
                                                             "velocity_window_minutes": 0}, format="json")
    assert bad.status_code == 400 and set(bad.json()) >= {"velocity_max_clicks", "velocity_window_minutes"}
    foreign = make_program(world.b.advertiser)
    assert client.patch(f"/api/v1/programs/{foreign.pk}", {"velocity_max_clicks": 1},
                        format="json").status_code == 404
    assert Program.objects.get(pk=foreign.pk).velocity_max_clicks == 10


def test_the_advertiser_program_form_sets_velocity(world, shop):
    client = web_client(world.a.advertiser)
    page = client.get(f"/advertiser/programs/{shop.program.pk}/edit/").content.decode()
    assert 'name="velocity_max_clicks"' in page and 'name="velocity_window_minutes"' in page
    data = {"name": shop.program.name, "landing_url": shop.program.landing_url, "approval": "manual",
            "visibility": "public", "attribution_window_days": "30", "hold_days": "30", "fraud_policy": "hold",
            "velocity_max_clicks": "5", "velocity_window_minutes": "30", "rules-TOTAL_FORMS": "0"}
    response = client.post(f"/advertiser/programs/{shop.program.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    shop.program.refresh_from_db()
    assert (shop.program.velocity_max_clicks, shop.program.velocity_window_minutes) == (5, 30)
    page = client.get(f"/advertiser/programs/{shop.program.pk}/").content.decode()
    assert "over 5 clicks from one visitor in 30 min" in page
    bad = client.post(f"/advertiser/programs/{shop.program.pk}/edit/", data | {"velocity_window_minutes": "x"})
    assert bad.status_code == 400 and "valid integer" in bad.content.decode()
    assert web_client(world.b.advertiser).get(f"/advertiser/programs/{shop.program.pk}/edit/").status_code == 404


# --- the review pages -----------------------------------------------------------------------------
def test_the_fraud_queue_and_the_conversion_page_say_each_signal_in_words(world, shop,
                                                                          django_capture_on_commit_callbacks):
    world.a.network.timezone = "Pacific/Kiritimati"  # UTC+14: the day named is the network's
    world.a.network.save(update_fields=["timezone"])
    seen_at = (timezone.now() - timedelta(days=1)).replace(hour=12)
    member_address_record(membership=world.a.affiliate.membership, ip="198.51.100.61", source="sign_in",
                          now=seen_at)
    ingest.ingest_records(_records(shop.link, [9, 7, 5]))
    flagged = Click.objects.get(velocity_count=3)
    with django_capture_on_commit_callbacks(execute=True):
        body = post_conversion(world.a.client("advertiser"), click_id=flagged.click_id, items=[],
                               customer_ip="198.51.100.61").json()
    assert body["fraud_signals"] == ["velocity", "self_referral"]
    assert Commission.objects.filter(conversion_id=body["id"], status="on_hold").exists()
    day = format_when(seen_at, "date", tzinfo=ZoneInfo("Pacific/Kiritimati"))  # the site's way to write a day
    assert day != format_when(seen_at, "date", tzinfo=ZoneInfo("UTC"))
    page = web_client(world.a.staff).get("/operator/fraud/").content.decode()
    assert "3 clicks from this visitor in 10 minutes on this program; the limit is 2." in page
    assert f"On {day}, blog@alpha.test (affiliate Alpha Blog) signed in from the buyer&#x27;s address." in page
    assert ">IP velocity<" in page and ">Self-referral<" in page
    detail = web_client(world.a.advertiser).get(f"/advertiser/conversions/{body['id']}/").content.decode()
    assert "the limit is 2" in detail and "signed in from the buyer" in detail
    assert web_client(world.b.advertiser).get(f"/advertiser/conversions/{body['id']}/").status_code == 404
    assert "Nothing is held" in web_client(world.b.owner).get("/operator/fraud/").content.decode()


def test_conversions_recorded_before_evidence_still_read_in_words(world, shop):
    click = click_at(shop.link, ago=timedelta(seconds=2))
    body = post_conversion(world.a.client("advertiser"), click_id=click.click_id).json()
    Conversion.objects.filter(pk=body["id"]).update(signal_details=[], fraud_signals=["too_fast", "bot_click"])
    page = web_client(world.a.advertiser).get(f"/advertiser/conversions/{body['id']}/").content.decode()
    assert "The conversion came very soon after its click." in page
    assert "The click came from a bot or crawler user agent." in page


def test_too_fast_evidence_names_the_seconds_and_the_minimum(world, shop):
    click = click_at(shop.link, ago=timedelta(seconds=3))
    body = post_conversion(world.a.client("advertiser"), click_id=click.click_id).json()
    [detail] = body["signal_details"]
    assert detail["code"] == "too_fast" and detail["limit"] == 10 and 2 <= detail["seconds"] <= 4
    assert click_id_time(click.click_id) == click.created_at
