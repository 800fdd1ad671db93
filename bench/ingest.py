#!/usr/bin/env python3
"""Benchmark of click ingestion on varied traffic: many visitors, links, sub IDs, countries and user agents.

bench/redirect.py measures ingestion on what wrk sends: one visitor, one link. Here the stream is filled with
click records as the redirect's batches write them (64 to an entry), from `--visitors` distinct addresses
over `--links` links of 5 programs and 20 affiliates, with five sub1 values, three countries and one bot user
agent in ten, and a few visitors clicking twice within the duplicate window. Then `manage.py ingest_clicks
--once` drains it, and the script checks rows, distinct click ids, duplicates, bots and rollups (hourly and per
link) against what was queued.

    .venv/bin/python bench/ingest.py [--clicks 200000] [--visitors 50000] [--links 100] [--batch 5000] [--in-process]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_ingest; dropped and
created), BENCH_REDIS_URL (default redis://127.0.0.1:6379/5; flushed).
"""

import argparse
import os
import resource
import sys
import time

from _common import PYTHON, AutoAnalyze, bench_env, django_setup, manage, recreate_database, require_loopback, run

SEED = """
from network import services
from network.models import Network
from programs.models import Partnership, Program, TrackingLink
network = Network.objects.create(name="Bench", slug="bench", default_currency="EUR")
advertiser, _ = services.advertiser_create(network=network, name="Bench Shop", email="shop@bench.test")
affiliates = []
for n in range(20):
    affiliate, _ = services.affiliate_create(network=network, name=f"Blog {n}", email=f"blog{n}@bench.test")
    affiliate.status = "active"
    affiliate.save()
    affiliates.append(affiliate)
programs = [Program.objects.create(network=network, advertiser=advertiser, name=f"Bench {n}", currency="EUR",
                                   landing_url="https://shop.example.com/") for n in range(5)]
links = []
for n in range(LINKS):
    program, affiliate = programs[n % 5], affiliates[n % 20]
    partnership, _ = Partnership.objects.get_or_create(network=network, program=program, affiliate=affiliate,
                                                       defaults={"status": "approved"})
    links.append(TrackingLink.objects.create(network=network, partnership=partnership, program=program,
                                             affiliate=affiliate))
print(",".join(str(link.pk) for link in links))
"""

AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/605",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0", "Mozilla/5.0 (Macintosh) Safari/605.1",
          "Mozilla/5.0 (Linux; Android 15) Chrome/130.0 Mobile", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0",
          "Mozilla/5.0 (iPad; CPU OS 18_0) Safari/605", "Mozilla/5.0 (Windows NT 10.0) Edge/130.0",
          "Mozilla/5.0 (Macintosh) Firefox/131.0", "Googlebot/2.1 (+http://www.google.com/bot.html)")


def fill(clicks: int, visitors: int, link_ids: list[int]) -> dict:
    """Queue `clicks` records in 64-click entries; what the database must hold afterwards."""
    from django.conf import settings

    from programs.models import TrackingLink
    from tracking import click_queue
    from tracking import clicks as hot
    from tracking.ids import new_click_id

    links = {link.pk: link for link in TrackingLink.objects.filter(pk__in=link_ids)}
    conn = click_queue.client()
    click_queue.ensure_group(conn)
    pipe = conn.pipeline(transaction=False)
    batch, bots, seen, first_human = [], 0, set(), 0
    for n in range(clicks):
        visitor = n % visitors  # every visitor clicks clicks/visitors times, on one link, within the window
        link = links[link_ids[visitor % len(link_ids)]]
        agent = AGENTS[n % len(AGENTS)]
        bots += agent.startswith("Googlebot")
        if visitor not in seen:  # a visitor's first click is its unique one (the rest fall in the window)
            seen.add(visitor)
            first_human += not agent.startswith("Googlebot")
        record = hot.click_record(
            {"link_id": link.pk, "network_id": link.network_id, "program_id": link.program_id,
             "partnership_id": link.partnership_id, "affiliate_id": link.affiliate_id},
            new_click_id(), [f"s{n % 5}", "", "", "", ""],
            {"REMOTE_ADDR": f"10.{visitor >> 16 & 255}.{visitor >> 8 & 255}.{visitor & 255}",
             "HTTP_USER_AGENT": agent, "HTTP_CF_IPCOUNTRY": ("DE", "FR", "US")[n % 3]},
        )
        batch.append(record)
        if len(batch) == 64:
            pipe.xadd(settings.CLICK_STREAM, {click_queue.FIELD: click_queue.encode(batch)})
            batch = []
            if len(pipe) >= 200:
                pipe.execute()
    if batch:
        pipe.xadd(settings.CLICK_STREAM, {click_queue.FIELD: click_queue.encode(batch)})
    pipe.execute()
    return {"clicks": clicks, "bots": bots, "visitors": len(seen), "unique": first_human}


CHECK = """
from django.db.models import Count, Sum
from tracking.models import Click, ClickRollup, LinkRollup
rows = Click.objects.aggregate(n=Count("id"), distinct=Count("click_id", distinct=True))
unique = Click.objects.filter(is_unique=True, is_bot=False).count()
bots = Click.objects.filter(is_bot=True).count()
rollup = ClickRollup.objects.aggregate(c=Sum("clicks"), u=Sum("unique_clicks"), b=Sum("bot_clicks"))
links = LinkRollup.objects.aggregate(c=Sum("clicks"), u=Sum("unique_clicks"))
print(rows["n"], rows["distinct"], unique, bots, rollup["c"] or 0, rollup["u"] or 0, rollup["b"] or 0,
      links["c"] or 0, links["u"] or 0)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=200_000)
    parser.add_argument("--visitors", type=int, default=50_000)
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5000, help="ingester batch size")
    parser.add_argument("--autoanalyze", type=float, default=10,
                        help="ANALYZE changed tables every N seconds, as autovacuum would (0: never)")
    parser.add_argument("--in-process", action="store_true",
                        help="drain in this process (CPU seconds without start-up) instead of `ingest_clicks --once`")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_ingest")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    require_loopback(database_url, redis_url)
    env = bench_env(database_url, redis_url, CLICK_STREAM="afn:bench-ingest")
    recreate_database(database_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)
    seeded = manage(env, "shell", "-c", SEED.replace("LINKS", str(args.links)))
    link_ids = [int(pk) for pk in seeded.split()[-1].split(",")]
    django_setup(env)
    started = time.monotonic()
    queued = fill(args.clicks, args.visitors, link_ids)
    print(f"queued               {queued['clicks']} clicks from {queued['visitors']} visitors on {len(link_ids)} "
          f"links ({queued['bots']} from a bot user agent) in {time.monotonic() - started:.1f}s", flush=True)
    analyzer = AutoAnalyze(database_url, args.autoanalyze) if args.autoanalyze else None
    if analyzer is not None:
        analyzer.start()
    started, children = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    if args.in_process:
        from tracking import click_queue

        cpu_started = time.process_time()
        total = click_queue.drain(batch=args.batch)
        cpu = time.process_time() - cpu_started
        drained = (f"ingested {total.inserted} clicks ({total.received} received, {total.duplicates} duplicates, "
                   f"{total.bots} bots) in {time.monotonic() - started:.2f}s")
    else:
        drained = manage(env, "ingest_clicks", "--once", "--batch", str(args.batch)).strip()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    wall = time.monotonic() - started
    if analyzer is not None:
        analyzer.stop()
    rows, distinct, unique, bots, r_clicks, r_unique, r_bots, l_clicks, l_unique = map(
        int, manage(env, "shell", "-c", CHECK).split()[-9:])
    inside = float(drained.rsplit(" in ", 1)[-1].rstrip("s"))
    print(f"ingestion            {drained}")
    print(f"ingestion rows/s     {rows / inside:,.0f} ({inside:.2f}s draining; {wall:.1f}s with startup; "
          f"load average {os.getloadavg()[0]:.2f})")
    print(f"ingester CPU         {cpu:.2f}s ("
          + ("this process's, draining only" if args.in_process else "user and system, with its start-up")
          + "; the machine's load does not count)")
    print(f"stored               {rows} (distinct click ids {distinct}); unique non-bot {unique} (expected "
          f"{queued['unique']}); bots {bots}")
    print(f"rollups              clicks {r_clicks}, unique {r_unique}, bots {r_bots}; per link: clicks {l_clicks}, "
          f"unique {l_unique}")
    ok = (rows == distinct == queued["clicks"] == r_clicks == l_clicks and bots == queued["bots"] == r_bots
          and unique == r_unique == l_unique == queued["unique"])
    print("check                " + ("OK: every queued click stored once, rollups equal the raw clicks" if ok
                                     else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
