"""CSV import benchmark: a 100,000-row file of conversions imported into PostgreSQL, commissions included.

Creates a fresh PostgreSQL database, migrates it, seeds a network (an advertiser, a program paying 10 %, an
affiliate's link and one click per row), writes a CSV of `--rows` sales (each attributed by its click; every
`--bad-every`th row has a bad amount, to be reported and skipped), then imports it as the API does: the upload's
checks and storage (`imports.conversion_import_create`), whose commit queues the Celery task to a real worker
(`--celery` processes, 2 by default: the import's chunks in one, the commission batches they queue, with their
ledger postings and e-mails rendered for Django's dummy backend, in the other). Prints rows/s and the total
seconds until the last commission is written, and checks every good row has its conversion and commission.

    .venv/bin/python bench/import_csv.py --database bench_import --redis redis://127.0.0.1:6379/10
"""

import argparse
import io
import os
import secrets
import sys
import time

from _common import (
    ROOT,
    AutoAnalyze,
    conversions_without_commission,
    cpu_seconds,
    recreate_database,
    seed_program_clicks,
    start_group,
    stop_group,
)

# The app's packages before this folder's scripts (bench/reports.py would hide the reports app from the e-mails).
sys.path = [str(ROOT), *(entry for entry in sys.path if os.path.abspath(entry or ".") != str(ROOT / "bench"))]


def seed(rows: int):
    """Migrate and seed; returns the network, the advertiser and one click id per row."""
    import django

    django.setup()
    network, advertiser, _, click_ids = seed_program_clicks(rows, ago_seconds=2 * 86400, step_ms=10)
    return network, advertiser, click_ids


def csv_file(click_ids: list[str], bad_every: int) -> tuple[bytes, int]:
    """The file, and how many of its rows are bad."""
    out = io.StringIO()
    out.write("order_id,amount,currency,click_id,customer_id\n")
    bad = 0
    for n, click_id in enumerate(click_ids):
        amount = f"{10 + n % 90}.{n % 100:02d}"
        if bad_every and n % bad_every == bad_every - 1:
            amount, bad = "n/a", bad + 1
        out.write(f"ORD-{n},{amount},EUR,{click_id},cust-{n}\n")
    return out.getvalue().encode(), bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--database", default="bench_import")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad-every", type=int, default=1000, help="one bad row in this many (0: none)")
    parser.add_argument("--celery", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--autoanalyze", type=float, default=10,
                        help="seconds between autovacuum-style ANALYZEs when the server's autovacuum is off (0: none)")
    args = parser.parse_args()

    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0", "TESTING": "0",
        "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{args.pg}/{args.database}", "REDIS_URL": args.redis, "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # Commission e-mails are rendered and handed to Django's dummy backend: there is no SMTP server here.
        "EMAIL_URL": "dummymail://",
        "MEDIA_ROOT": os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{args.database}-media"),  # noqa: S108
    }
    os.environ.update(env)
    recreate_database(f"{args.pg}/{args.database}")
    network, advertiser, click_ids = seed(args.rows)
    data, bad = csv_file(click_ids, args.bad_every)
    analyzer = AutoAnalyze(f"{args.pg}/{args.database}", args.autoanalyze) if args.autoanalyze else None
    if analyzer is not None:
        analyzer.start()

    from django.db.models import Sum

    from commissions.models import Commission, LedgerEntry
    from tracking import imports
    from tracking.models import Conversion, ConversionImport
    worker = start_group([sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
                          f"--concurrency={args.celery}", "--without-gossip", "--without-mingle",
                          "--without-heartbeat"], {**os.environ, **env})
    backends = f": postgres {args.database} "
    try:
        time.sleep(5)  # the worker's start
        cpu_before = (cpu_seconds(pgid=worker.pid), cpu_seconds(title=backends))
        started = time.perf_counter()
        job = imports.conversion_import_create(network=network, advertiser=advertiser, data=data,
                                               filename="bench.csv")
        accepted = time.perf_counter()
        done = None
        while time.perf_counter() - started < args.timeout:
            job.refresh_from_db()
            if done is None and job.is_finished:
                done = time.perf_counter()
            if done is not None and conversions_without_commission() <= 0:
                break
            time.sleep(0.1)
        finished = time.perf_counter()
        cpu_after = (cpu_seconds(pgid=worker.pid), cpu_seconds(title=backends))
    finally:
        stop_group(worker)
        if analyzer is not None:
            analyzer.stop()
    result = job.status
    job = ConversionImport.objects.get(pk=job.pk)
    conversions = Conversion.objects.count()
    commissions = Commission.objects.count()
    without = Conversion.objects.filter(commissions__isnull=True).count()
    ledger = LedgerEntry.objects.aggregate(total=Sum("amount"))["total"]
    total = finished - started
    print(f"file: {len(data) / 2**20:.1f} MB, {args.rows} rows ({bad} bad)")
    print(f"import {result}: {job.processed} processed, {job.created} created, {job.duplicates} duplicates, "
          f"{job.error_count} errors")
    print(f"upload checked and stored in {accepted - started:.2f}s; the import's task done after "
          f"{(done or finished) - started:.1f}s, the last commission written after {finished - started:.1f}s")
    print(f"total {total:.1f}s: {args.rows / total:,.0f} rows/s (conversions with their commissions and ledger "
          "postings written)")
    print(f"rows in the database: {conversions} conversions, {commissions} commissions, {without} conversions "
          f"without one; ledger sum {ledger}")
    analysed = f"ANALYZE of changed tables every {args.autoanalyze:g}s ({analyzer.runs} run)" if analyzer else None
    print(f"statistics: {analysed or 'as seeded (ANALYZE of the seed only)'}")
    print(f"CPU: Celery worker {cpu_after[0] - cpu_before[0]:.1f}s, PostgreSQL {cpu_after[1] - cpu_before[1]:.1f}s "
          f"(load average {os.getloadavg()[0]:.1f}: other processes share these {os.cpu_count()} cores)")
    good = args.rows - bad
    ok = (result == "done" and job.created == conversions == commissions == good and job.error_count == bad
          and without == 0 and ledger == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
