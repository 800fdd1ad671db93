import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from network.models import Network
from tests.factories import make_link, make_partnership, make_program
from tests.tracking import clicks_support
from tests.tracking.clicks_support import partition_of, record_for, visit
from tracking import click_queue, ingest, partitions
from tracking.ids import click_id_time, new_click_id
from tracking.models import Click, ClickRollup

direct_clicks, program, link = clicks_support.direct_clicks, clicks_support.program, clicks_support.link
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def now_ms(offset_s: float = 0) -> int:
    return int((time.time() + offset_s) * 1000)


def rollups_from_clicks():
    """What the rollups must say, recomputed from the raw clicks."""
    expected = Counter()
    for c in Click.objects.all():
        hour = c.created_at.replace(minute=0, second=0, microsecond=0)
        key = (c.network_id, c.program_id, c.affiliate_id, c.sub1, c.country, hour)
        expected[(*key, "clicks")] += 1
        expected[(*key, "unique_clicks")] += int(c.is_unique and not c.is_bot)
        expected[(*key, "bot_clicks")] += int(c.is_bot)
    return +expected


def rollups_stored():
    stored = Counter()
    for r in ClickRollup.objects.all():
        key = (r.network_id, r.program_id, r.affiliate_id, r.sub1, r.country, r.hour)
        for name in ("clicks", "unique_clicks", "bot_clicks"):
            stored[(*key, name)] += getattr(r, name)
    return +stored


def test_redelivered_click_is_counted_once(link):
    record = record_for(link, new_click_id())
    assert ingest.ingest_records([record, dict(record)]).inserted == 1
    assert ingest.ingest_records([record]).inserted == 0  # the stream delivered it again
    assert Click.objects.count() == 1
    rollup = ClickRollup.objects.get()
    assert (rollup.clicks, rollup.unique_clicks) == (1, 1)
    assert Click.objects.get().created_at == click_id_time(record["click_id"])


def test_rollups_match_raw_clicks_after_mixed_batches(world, link):
    other_link = make_link(make_partnership(link.program, world.a.affiliate2))
    t = now_ms(-600)
    first = [
        record_for(link, new_click_id(t), ip_hash="v1", sub1="fb", country="DE"),
        record_for(link, new_click_id(t + 10_000), ip_hash="v1", sub1="fb", country="DE"),  # duplicate
        record_for(link, new_click_id(t + 20_000), ip_hash="v1", sub1="fb", country="DE", user_agent=BOT),  # both
        record_for(link, new_click_id(t + 30_000), ip_hash="v2", user_agent=""),  # bot: empty user agent
        record_for(link, new_click_id(t + 40_000), ip_hash="v3", country="FR"),
        record_for(other_link, new_click_id(t + 40_000), ip_hash="v1"),  # another link: not a duplicate
    ]
    result = ingest.ingest_records(first)
    assert (result.inserted, result.duplicates, result.bots) == (6, 2, 2)
    second = [
        first[4],  # redelivered
        record_for(link, new_click_id(t + 50_000), ip_hash="v3", country="FR"),  # duplicate of a stored click
        record_for(link, new_click_id(t + 200_000), ip_hash="v1", sub1="fb", country="DE"),  # window passed
        {"click_id": "not-a-click-id", "link_id": link.id},  # malformed: dropped
    ]
    result = ingest.ingest_records(second)
    assert (result.received, result.inserted, result.duplicates) == (4, 2, 1)
    assert Click.objects.count() == 8
    assert rollups_stored() == rollups_from_clicks()
    totals = Counter()
    for r in ClickRollup.objects.all():
        totals.update(clicks=r.clicks, unique_clicks=r.unique_clicks, bot_clicks=r.bot_clicks)
    assert totals == Counter(clicks=8, unique_clicks=4, bot_clicks=2)


def test_clicks_of_different_hours_roll_up_separately(link):
    t = now_ms(-7200)
    ingest.ingest_records([record_for(link, new_click_id(t), ip_hash="a"),
                           record_for(link, new_click_id(t + 3_600_000), ip_hash="b")])
    assert sorted(ClickRollup.objects.values_list("clicks", flat=True)) == [1, 1]
    assert ClickRollup.objects.values("hour").distinct().count() == 2


def test_retention_drops_old_clicks_and_keeps_rollups(world, link):
    world.a.network.click_retention_days = 30
    world.a.network.save()
    b_program = make_program(world.b.advertiser, landing_url="https://b.test/")
    b_link = make_link(make_partnership(b_program, world.b.affiliate))  # network b keeps clicks 90 days
    Network.objects.exclude(pk__in=[world.a.network.pk, world.b.network.pk]).delete()
    old, recent = now_ms(-40 * 86400), now_ms(-86400)
    ingest.ingest_records([record_for(link, new_click_id(old), ip_hash="x"),
                           record_for(link, new_click_id(recent), ip_hash="y"),
                           record_for(b_link, new_click_id(old), ip_hash="z")])
    rollups_before = rollups_stored()
    assert partitions.purge_expired() == 1
    assert sorted(Click.objects.values_list("network_id", "created_at__date")) == sorted([
        (world.a.network.id, click_id_time(new_click_id(recent)).date()),
        (world.b.network.id, click_id_time(new_click_id(old)).date()),
    ])
    assert rollups_stored() == rollups_before


def test_embedded_default_ingest_command_says_there_is_no_queue(settings, capsys):
    settings.CLICK_QUEUE_URL = ""
    call_command("ingest_clicks", "--once")
    assert "written directly" in capsys.readouterr().out


def test_bot_list_and_empty_user_agent():
    assert ingest.is_bot("") and ingest.is_bot(BOT) and ingest.is_bot("curl/8.5.0")
    assert not ingest.is_bot("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")


# --- with a real Redis ----------------------------------------------------------------
@pytest.fixture
def stream(settings):
    settings.CLICK_QUEUE_URL = settings.REDIS_URL
    settings.CLICK_STREAM = f"test:clicks:{new_click_id()}"
    click_queue.reset_breakers()
    conn = click_queue.client()
    yield conn
    conn.delete(settings.CLICK_STREAM)


@pytest.mark.redis
def test_redirects_go_through_the_stream_and_the_ingester_drains_them(link, stream, settings):
    settings.CLICK_QUEUE_BUFFERED = False
    answers = [visit(f"/c/{link.code}", ip="198.51.100.77") for _ in range(3)]
    assert Click.objects.count() == 0 and stream.xlen(settings.CLICK_STREAM) == 3
    payloads = b"".join(fields[b"d"] for _id, fields in stream.xrange(settings.CLICK_STREAM))
    assert b"198.51.100.77" not in payloads  # no raw IP in the queue either
    call_command("ingest_clicks", "--once", "--batch", "2")
    assert sorted(Click.objects.values_list("click_id", flat=True)) == sorted(a.params["click_id"] for a in answers)
    assert [c.is_unique for c in Click.objects.order_by("click_id")] == [True, False, False]
    assert stream.xlen(settings.CLICK_STREAM) == 0  # acknowledged and deleted
    assert stream.xpending(settings.CLICK_STREAM, click_queue.GROUP)["pending"] == 0


@pytest.mark.redis
def test_buffered_writer_batches_clicks_into_the_stream(link, stream, settings, monkeypatch):
    settings.CLICK_QUEUE_BUFFERED = True
    monkeypatch.setattr(click_queue.ClickBuffer, "MAX_BATCH", 8)
    answers = [visit(f"/c/{link.code}") for _ in range(20)]
    assert stream.xlen(settings.CLICK_STREAM) >= 2  # two full batches written by the requests themselves
    deadline = time.monotonic() + 2
    while stream.xlen(settings.CLICK_STREAM) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)  # the remaining 4 clicks: written by the timer within MAX_AGE
    assert stream.xlen(settings.CLICK_STREAM) == 3
    assert click_queue.buffer.flush()
    assert click_queue.drain().inserted == 20
    assert set(Click.objects.values_list("click_id", flat=True)) == {a.params["click_id"] for a in answers}


@pytest.mark.redis
def test_killed_ingesters_batch_is_redelivered_and_counted_once(link, stream, settings):
    records = [record_for(link, new_click_id(), ip_hash=f"v{i}") for i in range(5)]
    for record in records:
        click_queue.enqueue(record)
    click_queue.ensure_group(stream)
    # Ingester "dead" read everything, wrote part of it, and was killed before acknowledging.
    taken = click_queue.read(stream, "dead", 10, None, 60_000)
    assert len(taken) == 5
    ingest.ingest_records(records[:2])
    click_queue.enqueue(records[0])  # and a producer retried one click
    result = click_queue.drain(stale_ms=0)  # another ingester claims the stale entries
    assert result.inserted == 3
    assert Click.objects.count() == 5
    assert sum(ClickRollup.objects.values_list("clicks", flat=True)) == 5
    assert stream.xpending(settings.CLICK_STREAM, click_queue.GROUP)["pending"] == 0


@pytest.mark.redis
def test_celery_task_drains_the_queue(link, stream):
    from tracking.tasks_clicks import clicks_ingest

    click_queue.enqueue(record_for(link, new_click_id()))
    assert clicks_ingest.delay().get() == 1
    assert Click.objects.count() == 1


# --- PostgreSQL partitions --------------------------------------------------------------
@pytest.mark.postgres
def test_clicks_land_in_their_days_partition(link):
    partitions._known.clear()
    record = record_for(link, new_click_id(now_ms(-3 * 86400)))
    ingest.ingest_records([record])
    day = click_id_time(record["click_id"]).date()
    assert partition_of(record["click_id"]) == partitions.partition_name(day)


@pytest.mark.postgres
def test_rows_caught_by_the_default_partition_move_into_a_new_days_partition(link):
    record = record_for(link, new_click_id(now_ms(-20 * 86400)))
    day = click_id_time(record["click_id"]).date()
    partitions._known.add(day)  # pretend it exists: the row goes to the DEFAULT partition
    ingest.ingest_records([record])
    assert partition_of(record["click_id"]) == partitions.DEFAULT
    assert partitions.ensure_partition(day) is True
    assert partition_of(record["click_id"]) == partitions.partition_name(day)
    assert ingest.ingest_records([record]).inserted == 0  # still unique across the move


@pytest.mark.postgres
def test_partitions_are_made_ahead_and_dropped_after_retention(world, link):
    partitions.ensure_ahead(3)
    today = timezone.now().date()
    assert {today + timedelta(days=d) for d in range(4)} <= set(partitions.existing())
    Network.objects.update(click_retention_days=10)
    old = record_for(link, new_click_id(now_ms(-15 * 86400)))
    ingest.ingest_records([old, record_for(link, new_click_id(), ip_hash="new")])
    old_day = click_id_time(old["click_id"]).date()
    assert old_day in partitions.existing()
    assert partitions.purge_expired() == 1
    assert old_day not in partitions.existing()
    assert Click.objects.count() == 1 and sum(ClickRollup.objects.values_list("clicks", flat=True)) == 2


def test_text_with_quotes_separators_and_escapes_is_stored_as_sent(link):
    odd = 'Mozilla/5.0 "quoted", comma\\backslash\ttab é 🙂 \\N'
    record = record_for(link, new_click_id(), user_agent=odd, sub1="")
    record["referrer"] = "https://blog.test/?q=a,b\"c"
    ingest.ingest_records([record])
    click = Click.objects.get()
    assert (click.user_agent, click.referrer, click.sub1, click.sub2) == (odd, record["referrer"], "", "")


def test_a_unique_violation_as_citus_reports_it_sends_the_batch_through_the_staging_table():
    """Citus reports a worker's unique violation during a COPY as an internal error (SQLSTATE XX000) with
    PostgreSQL's message: the ingester takes it as a redelivered click; any other internal error is raised."""
    from types import SimpleNamespace

    from tracking.ingest import _unique_violation

    def error(message):
        return SimpleNamespace(pgcode="XX000", diag=SimpleNamespace(message_primary=message))

    assert _unique_violation(error('duplicate key value violates unique constraint "tracking_click_p20261204_k_1"'))
    assert not _unique_violation(error("connection to the remote node 127.0.0.1:9701 failed"))
    assert not _unique_violation(SimpleNamespace(pgcode="23503", diag=SimpleNamespace(
        message_primary='duplicate key value violates unique constraint "x"')))
