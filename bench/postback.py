"""Conversion postback benchmark: POST /api/v1/conversions against the production shape.

Creates a fresh PostgreSQL database, migrates it, seeds a network with an advertiser, a program, an
affiliate's link and clicks, starts granian (WSGI, DEBUG off) against PostgreSQL + Redis, posts conversions
with unique order ids (each attributed by a click) from an asyncio keep-alive client for a fixed time, then
prints conversions/s accepted, p50/p99 latency, errors and the rows in the database.

    .venv/bin/python bench/postback.py --database bench_conv --redis redis://127.0.0.1:6379/6 --seconds 20
    .venv/bin/python bench/postback.py --citus-url postgres://postgres@127.0.0.1:9700

--citus-url (a Citus coordinator's server URL, no database) replaces --pg: the database is made on the coordinator
and on every worker registered in the coordinator's `postgres` database, and its tables are distributed by
network_id after migrating, before the seed (core.citus; --shards, default 8).

What a request includes: API key authentication and its rate limit, input validation, click lookup and
attribution, fraud checks (too fast, bot or duplicate click, duplicate order), the INSERT, and the on-commit
`conversion_recorded` signal, whose receiver hands the conversion id to the process's batch of commission kicks.
A real Celery worker (`--celery 1`, the default) writes the commissions (10 % of each order) with their ledger
postings and e-mails (rendered, handed to Django's dummy backend); after the load the script waits until every
conversion has its commission and prints conversions/s accepted *with commissions written*: the conversions over
the load's duration plus the time the worker needed to finish.
"""

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request

from _common import (
    ROOT,
    AutoAnalyze,
    conversions_without_commission,
    cpu_seconds,
    distribute_database,
    free_port,
    http_client,
    http_request,
    new_stats,
    recreate_citus_database,
    recreate_database,
    seed_program_clicks,
    start_group,
    stop_group,
)

sys.path.insert(0, str(ROOT))


def seed(clicks: int, citus_shards: int = 0) -> tuple[str, list[str]]:
    """Migrate (and distribute, on Citus) and seed; returns the advertiser's API key and the click ids to convert."""
    import django

    django.setup()
    if citus_shards:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        distribute_database(os.environ["DATABASE_URL"], citus_shards)
        connection.close()  # the migrating session's plans predate the distribution
    _, _, issued, click_ids = seed_program_clicks(clicks, ago_seconds=2 * 3600, step_ms=1)
    return issued.raw, click_ids


def wait_for_commissions(worker, timeout: float) -> float:
    """Seconds until every conversion has its commission (the worker drained the kicks); 0 without a worker."""

    started = time.perf_counter()
    while worker is not None and conversions_without_commission() > 0:
        if time.perf_counter() - started > timeout:
            break
        time.sleep(0.05)
    return time.perf_counter() - started if worker is not None else 0.0


def postback_request(key: str, click_ids: list[str], worker: int, run: str):
    def build(n: int) -> bytes:
        body = json.dumps({"order_id": f"{run}-{worker}-{n}", "amount": "49.90", "currency": "EUR",
                           "click_id": click_ids[(worker * 100003 + n) % len(click_ids)]}).encode()
        return http_request("POST", "/api/v1/conversions", {"Authorization": f"Bearer {key}",
                                                              "Content-Type": "application/json"}, body)

    return build


async def drive(port: int, key: str, click_ids: list[str], connections: int, seconds: float) -> tuple[dict, float]:
    results = new_stats()
    started = time.perf_counter()
    deadline = started + seconds
    run = secrets.token_hex(4)
    await asyncio.gather(*(http_client(port, postback_request(key, click_ids, w, run), deadline, results)
                           for w in range(connections)))
    return results, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--citus-url", help="a Citus coordinator's server URL, no database (the database is made "
                                            "there and on its workers, distributed by network_id); replaces --pg")
    parser.add_argument("--shards", type=int, default=8, help="shards per distributed table with --citus-url")
    parser.add_argument("--database", default="bench_conv")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="granian worker processes (one batches all kicks)")
    parser.add_argument("--threads", type=int, default=16, help="blocking threads per worker (overlap DB waits)")
    parser.add_argument("--celery", type=int, default=1,
                        help="Celery worker processes writing the commissions (0: none, conversions only)")
    parser.add_argument("--clicks", type=int, default=20000)
    parser.add_argument("--autoanalyze", type=float, default=10,
                        help="seconds between autovacuum-style ANALYZEs when the server's autovacuum is off (0: none)")
    parser.add_argument("--app", default="config.wsgi:application",
                        help="WSGI target; config.wsgi serves the common postback before the middleware")
    args = parser.parse_args()
    if args.citus_url:
        args.pg = args.citus_url.rstrip("/")

    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0", "TESTING": "0",
        "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{args.pg}/{args.database}", "REDIS_URL": args.redis, "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        # Commission e-mails are rendered and handed to Django's dummy backend: there is no SMTP server here.
        "EMAIL_URL": "dummymail://",
    }
    os.environ.update(env)
    (recreate_citus_database if args.citus_url else recreate_database)(f"{args.pg}/{args.database}")
    key, click_ids = seed(args.clicks, args.shards if args.citus_url else 0)
    analyzer = AutoAnalyze(f"{args.pg}/{args.database}", args.autoanalyze) if args.autoanalyze else None
    if analyzer is not None:
        analyzer.start()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(args.workers),
         "--blocking-threads", str(args.threads), "--port", str(port), "--no-ws", "--log-level", "warning",
         args.app],
        cwd=ROOT, env=env, start_new_session=True,
    )
    worker = None
    if args.celery:
        worker = start_group([sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
                              f"--concurrency={args.celery}", "--without-gossip", "--without-mingle",
                              "--without-heartbeat"], env)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        asyncio.run(drive(port, key, click_ids, args.connections, 2))  # warm-up: connections, caches
        from commissions.models import Commission
        from tracking.models import Conversion

        warmed = wait_for_commissions(worker, timeout=120)
        before = Conversion.objects.count()
        backends = f": postgres {args.database} "  # this database's backends (the worker's too), no one else's

        def cpu_now():
            return (cpu_seconds(pgid=server.pid), cpu_seconds(title=backends),
                    cpu_seconds(pgid=worker.pid) if worker else 0.0, resource.getrusage(resource.RUSAGE_SELF))

        cpu_before = cpu_now()
        results, elapsed = asyncio.run(drive(port, key, click_ids, args.connections, args.seconds))
        rows = Conversion.objects.count() - before
        drained = wait_for_commissions(worker, timeout=300)
        cpu_after = cpu_now()  # until the commissions are written
        missing = Conversion.objects.filter(commissions__isnull=True).count()
        commissions = Commission.objects.count()
    finally:
        for process in (server, worker):
            if process is not None:
                stop_group(process)
        if analyzer is not None:
            analyzer.stop()
    server_cpu, postgres_cpu, worker_cpu = (after - before for after, before in zip(cpu_after[:3], cpu_before[:3],
                                                                                   strict=True))
    client_cpu = (cpu_after[3].ru_utime + cpu_after[3].ru_stime) - (cpu_before[3].ru_utime + cpu_before[3].ru_stime)
    latencies = sorted(results["latencies"])
    accepted = results["codes"].get(201, 0)
    p50 = statistics.median(latencies) * 1000 if latencies else 0
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0
    print(f"duration {elapsed:.1f}s, {args.connections} connections, "
          f"granian {args.workers} workers x {args.threads} threads (WSGI {args.app})")
    print(f"conversions accepted: {accepted} ({accepted / elapsed:.0f}/s)")
    print(f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"status codes: {dict(sorted(results['codes'].items()))}, connection errors: {results['errors']}")
    print(f"rows in the database: {rows} (201s answered: {accepted})")
    analysed = f"ANALYZE of changed tables every {args.autoanalyze:g}s ({analyzer.runs} run)" if analyzer else None
    print(f"statistics: {analysed or 'as seeded (ANALYZE of the seed only)'}")
    if worker is not None:
        print(f"commissions: {commissions} written, conversions without one: {missing}; the last written "
              f"{drained:.2f}s after the load ended (the warm-up's in {warmed:.2f}s)")
        print(f"conversions accepted with commissions written: {rows / (elapsed + drained):.0f}/s "
              f"({rows} in {elapsed:.1f}s of load + {drained:.2f}s to finish the commissions)")
    requests = max(len(latencies), 1)
    per = {name: cpu / requests * 1000 for name, cpu in
           (("server", server_cpu), ("postgres", postgres_cpu), ("client", client_cpu), ("worker", worker_cpu))}
    print(f"CPU per conversion: server {per['server']:.2f} ms, PostgreSQL {per['postgres']:.2f} ms (this "
          f"database's backends, the worker's included), Celery worker {per['worker']:.2f} ms, client "
          f"{per['client']:.2f} ms (load average {os.getloadavg()[0]:.1f}: other processes share these "
          f"{os.cpu_count()} cores)")
    print(f"if the cores were ours: {os.cpu_count() * 1000 / sum(per.values()):,.0f} conversions/s "
          "(estimate: cores / CPU per conversion of all of the above)")
    return 0 if (worker is None or missing == 0) and rows == accepted and not results["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
