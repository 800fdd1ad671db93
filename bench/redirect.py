#!/usr/bin/env python3
"""Benchmark of the click redirect in its production shape, then of click ingestion.

Starts granian (DEBUG=0, PostgreSQL, Redis, the minimal /c/ handler) against a fresh bench database with one
seeded link, drives GET /c/<code> with wrk (64 connections, fixed duration, loopback only), drains the
queue with `manage.py ingest_clicks --once`, and prints requests/s, p50, p99, 302s answered, clicks stored
(every click id wrk was answered with must be in the database exactly once) and ingestion rows/s.

    .venv/bin/python bench/redirect.py [--duration 20] [--connections 64] [--workers 2] [--targeting]
    .venv/bin/python bench/redirect.py --citus-url postgres://postgres@127.0.0.1:9700/bench_clicks

--targeting gives the seeded program a targeting every benchmark click passes (blocked countries, allowed device
types): each click then pays the country look-up (loopback has no CDN header, so the offline IP table) and the
device check (the user agent's type, remembered per string), and still gets its click id.

--citus-url names a database on a Citus coordinator instead: it is made on the coordinator and on every worker
registered in the coordinator's `postgres` database, and its tables are distributed by network_id after migrating
(core.citus; --shards, default 8).

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_clicks; the database is
dropped and created), BENCH_REDIS_URL (default redis://127.0.0.1:6379/4; flushed). Needs wrk (installed
with apt-get when missing).
"""

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    PYTHON,
    SEED_LINK,
    WRK_IDS_SCRIPT,
    bench_env,
    count_clicks,
    cpu_seconds,
    distribute_database,
    ensure_wrk,
    free_port,
    get_status,
    manage,
    recreate_citus_database,
    recreate_database,
    require_loopback,
    run,
    start_granian,
    wait_for,
    wrk_field,
)

PORT = free_port()
TARGETING = """
from programs.models import Program
Program.objects.update(targeting={"countries_allowed": [], "countries_blocked": ["KP", "RU"],
                                  "devices": ["desktop", "mobile"]})
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--sync-queue", action="store_true",
                        help="one XADD per click before answering (CLICK_QUEUE_BUFFERED=0)")
    parser.add_argument("--batch", type=int, default=5000, help="ingester batch size")
    parser.add_argument("--blocking-threads", type=int, default=1, help="granian threads per worker")
    parser.add_argument("--count-only", action="store_true",
                        help="no wrk Lua script (it costs wrk about 10 us a response, on the same cores): compare "
                             "the number of clicks stored with the number of 302s instead of every click id")
    parser.add_argument("--targeting", action="store_true",
                        help="the program blocks countries and allows devices: every click pays the look-ups")
    parser.add_argument("--citus-url", help="a database URL on a Citus coordinator (made there and on its workers, "
                                            "distributed by network_id); replaces BENCH_DATABASE_URL")
    parser.add_argument("--shards", type=int, default=8, help="shards per distributed table with --citus-url")
    args = parser.parse_args()

    database_url = args.citus_url or os.environ.get("BENCH_DATABASE_URL",
                                                    "postgres://postgres@127.0.0.1:5432/bench_clicks")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    require_loopback(database_url, redis_url)
    ensure_wrk()
    env = bench_env(database_url, redis_url)
    env["CLICK_QUEUE_BUFFERED"] = "0" if args.sync_queue else "1"
    (recreate_citus_database if args.citus_url else recreate_database)(database_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)
    if args.citus_url:
        distribute_database(database_url, args.shards)
    code = manage(env, "shell", "-c", SEED_LINK).strip().splitlines()[-1]
    if args.targeting:
        manage(env, "shell", "-c", TARGETING)

    server = start_granian(env, PORT, workers=args.workers, threads=args.blocking_threads)
    path = f"/c/{code}?sub2=wrk"
    url = f"http://127.0.0.1:{PORT}{path}"
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = Path(tmp) / "answered.txt"
        script = Path(tmp) / "ids.lua"
        script.write_text(WRK_IDS_SCRIPT)
        try:
            wait_for(PORT)
            # Warm every worker's cache (the warm path is what is measured); HEAD records no click.
            for _ in range(20 * args.workers):
                status = get_status(PORT, path, "HEAD")
                if status != 302:
                    raise SystemExit(f"the seeded link {path} answers {status}, not 302")
            print(f"wrk: {args.connections} connections, {args.duration}s, GET /c/{code}", flush=True)
            redis_pid = redis.Redis.from_url(redis_url).info("server")["process_id"]
            cpu_before = (cpu_seconds(pgid=server.pid), cpu_seconds(pid=redis_pid),
                          resource.getrusage(resource.RUSAGE_CHILDREN))
            script_args = [] if args.count_only else ["-s", str(script)]
            wrk = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", *script_args,
                 "-H", "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench", url],
                env={**env, "WRK_IDS_FILE": str(ids_file)}, capture_output=True, text=True, check=True,
            ).stdout
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = {
                "server": cpu_seconds(pgid=server.pid) - cpu_before[0],
                "redis": cpu_seconds(pid=redis_pid) - cpu_before[1],
                "wrk": after.ru_utime + after.ru_stime - cpu_before[2].ru_utime - cpu_before[2].ru_stime,
            }
            time.sleep(1)  # the writer threads flush what the last requests handed them
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        print(wrk)

        started = time.monotonic()
        drained = run([PYTHON, "manage.py", "ingest_clicks", "--once", "--batch", str(args.batch)], env,
                      capture_output=True).stdout.strip()
        ingest_seconds = time.monotonic() - started
        if args.count_only:
            # wrk's own totals: every request it completed, less the non-2xx/3xx ones, is a 302.
            total = int(next(ln for ln in wrk.splitlines() if " requests in " in ln).split()[0])
            other = next((int(ln.split(":")[1]) for ln in wrk.splitlines() if "Non-2xx or 3xx" in ln), 0)
            wrk += f"not_302 {other}\n"
            ids_file.write_text("")
        answered, answered_distinct, lost, stored, stored_distinct, rollup = count_clicks(env, ids_file)
        if args.count_only:
            answered = answered_distinct = total - other
            lost = max(0, answered - stored)  # a lower bound: a click lost and one cut off in flight cancel out

    def field(prefix):
        return wrk_field(wrk, prefix)

    not_302 = next((ln.split()[1] for ln in wrk.splitlines() if ln.startswith("not_302")), "?")
    print("=== results ===")
    print(f"requests/s           {field('Requests/sec')}")
    print(f"latency p50 / p99    {field('50%')} / {field('99%')}")
    print(f"302s answered        {answered} (other answers: {not_302})")
    print(f"clicks stored        {stored} (distinct click ids: {stored_distinct}; rollup clicks: {rollup})")
    print(f"lost                 {lost} (answered click ids missing from the database)")
    print(f"doubled              {answered - answered_distinct + stored - stored_distinct}")
    print(f"cut off in flight    {stored - (answered - lost)} (stored, but wrk stopped before reading the answer)")
    per = {name: seconds / max(answered, 1) * 1e6 for name, seconds in cpu.items()}
    print(f"CPU per redirect     server {per['server']:.1f} us, redis {per['redis']:.1f} us, wrk {per['wrk']:.1f} us"
          f" (load average {os.getloadavg()[0]:.2f}: other processes share these {os.cpu_count()} cores)")
    print(f"if the cores were ours {os.cpu_count() * 1e6 / sum(per.values()):,.0f} redirects/s"
          " (estimate: cores / CPU per redirect of server + redis + wrk)")
    print(f"ingestion            {drained}")
    inside = float(drained.rsplit(" in ", 1)[-1].rstrip("s"))
    print(f"ingestion rows/s     {stored / inside:,.0f} ({inside:.2f}s draining; {ingest_seconds:.1f}s with startup)")
    ok = (answered > 0 and not_302 == "0" and lost == 0 and answered == answered_distinct
          and stored == stored_distinct and rollup == stored and 0 <= stored - answered <= args.connections)
    print("check                " + ("OK: 0 lost, 0 doubled" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
