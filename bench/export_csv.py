#!/usr/bin/env python3
"""Benchmark of the CSV export of a list (GET /api/v1/conversions?format=csv) on PostgreSQL: rows per second and
the process's peak memory, for growing numbers of rows, so that "constant memory" is a measured figure.

Drops and recreates the bench database, migrates, creates one network (Europe/Riga) with an advertiser, an
affiliate and a program, then writes conversions with SQL (INSERT ... SELECT over generate_series, copies of one
conversion made through the ORM: every column filled as the services fill it; one in ten with a formula-like
sub1, one in four with a coupon code as sent). For each size in `--rows` (cumulative: the table grows to it) a
fresh process exports the owner's whole list through the real view (Django test client, API-key auth, DEBUG
off), reading the streamed body chunk by chunk as a client would, and prints rows, bytes, seconds, rows/s, and
its peak RSS (ru_maxrss) before and after the export.

    .venv/bin/python bench/export_csv.py [--rows 100000,1000000] [--reuse]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_export; dropped and created
unless --reuse).
"""

import argparse
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_export"


def setup(url: str, migrate: bool = False):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_THROTTLE_RATE", "0")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def seed() -> str:
    """The network and one template conversion; the owner's key."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from network import services
    from programs.models import CommissionRule, Partnership, Program
    from tracking.models import Conversion

    network, owner_issued = services.network_create(
        name="Bench", slug="bench", currency="EUR", owner_email="o@bench.test", timezone_name="Europe/Riga")
    advertiser, _ = services.advertiser_create(network=network, name="Shop", email="shop@bench.test")
    affiliate, _ = services.affiliate_create(network=network, name="Pub", email="pub@bench.test")
    program = Program.objects.create(network=network, advertiser=advertiser, name="Program", currency="EUR",
                                     landing_url="https://shop.bench.test/", allowed_domains=[])
    CommissionRule.objects.create(network=network, program=program, event="sale", kind="percent",
                                  payout=Decimal("8"))
    partnership = Partnership.objects.create(network=network, program=program, affiliate=affiliate,
                                             status="approved")
    Conversion.objects.create(
        network=network, advertiser=advertiser, order_id="TEMPLATE", amount=Decimal("49.905"), currency="EUR",
        attribution="click", program=program, partnership=partnership, affiliate=affiliate,
        click_id="01JBENCH000000000000000000", clicked_at=datetime(2026, 1, 1, 10, tzinfo=UTC), sub1="newsletter",
        country="LV", customer_id="cus_bench", fraud_signals=["velocity"])
    return owner_issued.raw


def grow(total: int) -> None:
    """Conversions up to `total`: copies of the template, over the last 90 days."""
    from django.db import connection

    from tracking.models import Conversion

    template = Conversion.objects.get(order_id="TEMPLATE")
    table = Conversion._meta.db_table
    have = Conversion.objects.count()
    if have >= total:
        return
    overrides = {
        "order_id": "'B-' || n",
        "sub1": "CASE WHEN n %% 10 = 0 THEN '=HYPERLINK(\"x\")' ELSE t.sub1 END",
        "coupon_code": "CASE WHEN n %% 4 = 0 THEN 'SAVE' || (n %% 100) ELSE '' END",
        "amount": "(n %% 50000) / 100.0 + 0.005",
        "created_at": "now() - make_interval(secs => n * 7.776)",
    }
    columns = [f.column for f in Conversion._meta.concrete_fields if not f.primary_key]
    values = [overrides.get(column, f't."{column}"') for column in columns]
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608 (our names)
            f"FROM generate_series(%s, %s) AS n, {table} AS t WHERE t.id = %s",
            [have, total - 1, template.pk])
        cursor.execute(f"ANALYZE {table}")
    print(f"conversions: {have:,} -> {total:,} in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


def measure(key: str) -> None:
    """One export through the real view, in this (fresh) process; prints one line of figures."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get("/api/v1/conversions?page_size=1")  # imports, URL resolution, the key's cache: not the export's
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    response = client.get("/api/v1/conversions?format=csv")
    assert response.status_code == 200 and response.streaming, response.status_code
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\r\n")
    response.close()
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = lines - 1
    print(f"| {rows:,} | {size / 1e6:,.0f} MB | {seconds:.1f} s | {rows / seconds:,.0f} | "
          f"{before / 1024:.0f} MB | {after / 1024:.0f} MB |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="sizes, comma-separated, growing")
    parser.add_argument("--reuse", action="store_true", help="keep the database (and its rows) from a last run")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: export with this key
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.measure:
        setup(url)
        measure(args.measure)
        return
    if not args.reuse:
        recreate_database(url)
    setup(url, migrate=True)
    from network.models import ApiKey

    key_file = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_export_key"  # noqa: S108 (a bench's own file)
    if args.reuse and key_file.exists() and ApiKey.objects.exists():
        key = key_file.read_text().strip()
    else:
        key = seed()
        key_file.write_text(key)
    print("| rows | CSV | time | rows/s | peak RSS before the export | peak RSS after |")
    print("| --- | --- | --- | --- | --- | --- |", flush=True)
    for total in (int(n) for n in args.rows.split(",")):
        grow(total)
        subprocess.run([sys.executable, __file__, "--measure", key], check=True,  # noqa: S603
                       env={**os.environ, "BENCH_DATABASE_URL": url})


if __name__ == "__main__":
    main()
