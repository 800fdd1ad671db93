"""The click queue sharded by network: each network's clicks in its shard's stream, ingesters per shard."""

import contextlib
import shutil
import socket
import subprocess
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_link, make_partnership, make_program
from tests.tracking import clicks_support
from tests.tracking.clicks_support import record_for, visit
from tracking import click_queue, clicks
from tracking.ids import new_click_id
from tracking.models import Click, ClickRollup

program, link = clicks_support.program, clicks_support.link


@pytest.fixture
def b_link(world):
    other = make_program(world.b.advertiser, landing_url="https://b-shop.test/")
    return make_link(make_partnership(other, world.b.affiliate))


@pytest.fixture
def sharded(settings):
    """Two shards on the test Redis, under a key of this test's own."""
    settings.CLICK_QUEUE_URL = settings.REDIS_URL
    settings.CLICK_QUEUE_NODES = []
    settings.CLICK_QUEUE_SHARDS = 2
    settings.CLICK_STREAM = f"test:clicks:{new_click_id()}"
    click_queue.reset_breakers()
    clicks.clear_local_cache()
    yield
    for shard in click_queue.shards():
        with contextlib.suppress(Exception):  # a node a test stopped or never had
            click_queue.client(url=shard.url).delete(shard.key)
    clicks.clear_local_cache()


def stream_networks(shard) -> list[int]:
    """The network of every click queued in a shard's stream."""
    conn = click_queue.client(url=shard.url)
    return [r["network_id"] for _id, fields in conn.xrange(shard.key) for r in click_queue.decode(fields[b"d"])]


def pending(shard) -> int:
    return click_queue.client(url=shard.url).xpending(shard.key, click_queue.GROUP)["pending"]


def shards_of(link, b_link):
    a = click_queue.shards()[click_queue.shard_index(link.network_id, 2)]
    b = click_queue.shards()[click_queue.shard_index(b_link.network_id, 2)]
    assert a.index != b.index, "the two test networks must fall on different shards"
    return a, b


def test_shard_keys_and_the_stable_network_hash(settings):
    settings.CLICK_QUEUE_URL = "redis://127.0.0.1:1/0"
    settings.CLICK_QUEUE_NODES = []
    settings.CLICK_STREAM = "afn:clicks"
    settings.CLICK_QUEUE_SHARDS = 1
    assert [s.key for s in click_queue.shards()] == ["afn:clicks"]  # one shard: today's key
    settings.CLICK_QUEUE_SHARDS = 4
    settings.CLICK_QUEUE_NODES = ["redis://n1:6379/0", "redis://n2:6379/0"]
    assert [(s.key, s.url) for s in click_queue.shards()] == [
        ("afn:clicks", "redis://n1:6379/0"), ("afn:clicks:1", "redis://n2:6379/0"),
        ("afn:clicks:2", "redis://n1:6379/0"), ("afn:clicks:3", "redis://n2:6379/0")]
    assert [click_queue.shard_index(n, 4) for n in (1, 2, 3, 4, 5, 1_000_003)] == [1, 2, 3, 0, 1, 3]
    assert click_queue.parse_shards("") == [0, 1, 2, 3] == click_queue.parse_shards("all")
    assert click_queue.parse_shards("3, 0-1,1") == [3, 0, 1]


@pytest.mark.parametrize("spec", ["4", "2-1", "x", "0,,1", "-1"])
def test_ingester_refuses_shards_that_do_not_exist(settings, spec):
    settings.CLICK_QUEUE_URL = "redis://127.0.0.1:1/0"  # refused before any connection
    settings.CLICK_QUEUE_SHARDS = 4
    with pytest.raises(CommandError):
        call_command("ingest_clicks", "--once", "--shards", spec)


@pytest.mark.redis
@pytest.mark.parametrize("buffered", [True, False])
def test_clicks_land_in_their_networks_shard_and_are_all_ingested(link, b_link, sharded, settings, buffered):
    settings.CLICK_QUEUE_BUFFERED = buffered
    a_shard, b_shard = shards_of(link, b_link)
    # Interleaved, so a buffered batch holds both networks' clicks and is split between the shards.
    answers = [visit(f"/c/{lnk.code}", ip=f"198.51.100.{i}") for i in range(6) for lnk in (link, b_link)]
    assert click_queue.buffer.flush()
    assert all(a.status == 302 for a in answers) and Click.objects.count() == 0
    assert stream_networks(a_shard) == [link.network_id] * 6
    assert stream_networks(b_shard) == [b_link.network_id] * 6

    call_command("ingest_clicks", "--once")
    assert set(Click.objects.values_list("click_id", flat=True)) == {a.params["click_id"] for a in answers}
    assert sum(ClickRollup.objects.values_list("clicks", flat=True)) == 12
    for shard in (a_shard, b_shard):
        assert click_queue.client().xlen(shard.key) == 0 and pending(shard) == 0


@pytest.mark.redis
def test_an_ingester_reads_only_the_shards_it_is_told(link, b_link, sharded, settings, capsys):
    a_shard, b_shard = shards_of(link, b_link)
    for lnk in (link, b_link, link):
        click_queue.enqueue(record_for(lnk, new_click_id()))
    call_command("ingest_clicks", "--once", "--shards", str(a_shard.index))
    assert list(Click.objects.values_list("network_id", flat=True)) == [link.network_id] * 2
    assert stream_networks(b_shard) == [b_link.network_id]
    # The setting gives the default (the ingester service's environment).
    settings.CLICK_INGEST_SHARDS = str(b_shard.index)
    call_command("ingest_clicks", "--once")
    assert Click.objects.filter(network_id=b_link.network_id).count() == 1
    assert stream_networks(b_shard) == [] and pending(b_shard) == 0
    assert "ingested 1 clicks" in capsys.readouterr().out


@pytest.mark.redis
def test_a_dead_ingesters_entries_are_claimed_on_every_shard(link, b_link, sharded):
    a_shard, b_shard = shards_of(link, b_link)
    records = [record_for(lnk, new_click_id(), ip_hash=f"v{i}") for i in range(3) for lnk in (link, b_link)]
    for record in records:
        click_queue.enqueue(record)
    conn = click_queue.client()
    # Ingester "dead" read every shard, wrote a's first click, and was killed before acknowledging.
    for shard in (a_shard, b_shard):
        click_queue.ensure_group(conn, shard.key)
        assert len(click_queue.read(conn, "dead", 10, None, 60_000, shard.key)) == 3
        assert pending(shard) == 3
    from tracking import ingest

    ingest.ingest_records(records[:1])
    result = click_queue.drain(stale_ms=0)  # another ingester claims the stale entries of both shards
    assert result.inserted == 5 and result.received == 6
    assert Click.objects.count() == 6
    assert sum(ClickRollup.objects.values_list("clicks", flat=True)) == 6
    assert pending(a_shard) == pending(b_shard) == 0


@pytest.mark.redis
def test_a_waiting_ingester_takes_new_clicks_from_every_shard(link, b_link, sharded):
    shards_of(link, b_link)
    records = [record_for(lnk, new_click_id()) for lnk in (link, b_link)]

    def later():
        time.sleep(0.3)  # while the ingester blocks on both streams
        for record in records:
            click_queue.enqueue(record)

    writer = threading.Thread(target=later)
    writer.start()
    result = click_queue.drain(block_ms=200, max_seconds=1.5)
    writer.join()
    assert result.inserted == 2
    assert set(Click.objects.values_list("network_id", flat=True)) == {link.network_id, b_link.network_id}


@pytest.mark.redis
def test_a_down_node_costs_only_its_shards_queue(link, b_link, sharded, settings):
    settings.CLICK_QUEUE_BUFFERED = True
    a_index = click_queue.shard_index(link.network_id, 2)
    nodes = [settings.REDIS_URL, settings.REDIS_URL]
    nodes[1 - a_index] = "redis://127.0.0.1:1/0"  # b's shard on a node where nothing listens
    settings.CLICK_QUEUE_NODES = nodes
    a_shard, _b_shard = shards_of(link, b_link)
    answers = [visit(f"/c/{lnk.code}") for lnk in (link, b_link)]
    assert click_queue.buffer.flush()
    # b's click went to the database at once; a's waits in its stream for the ingester.
    assert list(Click.objects.values_list("click_id", flat=True)) == [answers[1].params["click_id"]]
    assert stream_networks(a_shard) == [link.network_id]
    click_queue.drain(shard_indices=[a_shard.index])
    assert Click.objects.count() == 2


@pytest.fixture
def second_redis():
    """A throwaway Redis server on a free loopback port: a second queue node."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    conn = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            conn.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.redis
def test_shards_on_two_redis_nodes(link, b_link, sharded, settings, second_redis):
    settings.CLICK_QUEUE_BUFFERED = True
    settings.CLICK_QUEUE_NODES = [settings.REDIS_URL, second_redis]
    a_shard, b_shard = shards_of(link, b_link)
    assert {a_shard.url, b_shard.url} == {settings.REDIS_URL, second_redis}
    answers = [visit(f"/c/{lnk.code}", ip=f"198.51.100.{i}") for i in range(3) for lnk in (link, b_link)]
    assert click_queue.buffer.flush()
    assert stream_networks(a_shard) == [link.network_id] * 3
    assert stream_networks(b_shard) == [b_link.network_id] * 3
    assert Click.objects.count() == 0
    # One ingester per node (each told its shard), as the scaled-out services run.
    for shard in (b_shard, a_shard):
        call_command("ingest_clicks", "--once", "--shards", str(shard.index))
    assert set(Click.objects.values_list("click_id", flat=True)) == {a.params["click_id"] for a in answers}
    assert pending(a_shard) == pending(b_shard) == 0
