#!/usr/bin/env python3
"""Benchmark of GET /api/v1/reports over a large synthetic network on PostgreSQL.

Drops and recreates the bench database, migrates, creates one network (Europe/Berlin) with 10 advertisers,
40 programs, 500 affiliates, then fills 90 days of hourly click rollups with one INSERT ... SELECT over
generate_series (rows of about `--clicks-per-row` clicks each, so `--clicks` clicks in all), plus conversions
(about 1 % of clicks) and their commissions. Then it times the API in-process (Django test client, API-key
auth, the real view and queries), each report `--runs` times after one warm-up, and prints p50/p95.

    .venv/bin/python bench/reports.py [--clicks 10000000] [--clicks-per-row 5] [--runs 30]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_reports; dropped and
created). Needs `createdb` and `dropdb`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROGRAMS, AFFILIATES, ADVERTISERS, DAYS = 40, 500, 10, 90  # the SQL below assumes 40 programs
SUB1 = ["fb", "ig", "newsletter", "seo", "yt", "tiktok"]
COUNTRIES = ["DE", "AT", "CH", "FR", "NL", "GB", "US", "IT"]


def recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", *args, name], check=True)
    subprocess.run(["createdb", *args, name], check=True)


def setup(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def seed(total_clicks: int, per_row: int):
    from decimal import Decimal

    from django.db import connection

    from commissions.models import Commission
    from network import services
    from network.models import Network
    from programs.models import CommissionRule, Partnership, Program
    from tracking.models import ClickRollup, Conversion

    network, owner_issued = services.network_create(
        name="Bench", slug="bench", currency="EUR", owner_email="o@bench.test", timezone_name="Europe/Berlin")
    owner_key = owner_issued.raw
    made = [services.advertiser_create(network=network, name=f"Shop {i}", email=f"shop{i}@bench.test")
            for i in range(ADVERTISERS)]
    advertisers, adv_key = [advertiser for advertiser, _ in made], made[0][1].raw
    made = [services.affiliate_create(network=network, name=f"Pub {i}", email=f"pub{i}@bench.test")
            for i in range(AFFILIATES)]
    affiliates, aff_key = [affiliate for affiliate, _ in made], made[0][1].raw
    programs = Program.objects.bulk_create([
        Program(network=network, advertiser=advertisers[i % ADVERTISERS], name=f"Program {i}", currency="EUR",
                landing_url="https://shop.bench.test/", allowed_domains=[]) for i in range(PROGRAMS)])
    CommissionRule.objects.bulk_create([CommissionRule(network=network, program=p, event="sale", kind="percent",
                                                       payout=Decimal("8"), revenue=Decimal("10")) for p in programs])
    Partnership.objects.bulk_create([Partnership(network=network, program=p, affiliate=a, status="approved")
                                     for i, a in enumerate(affiliates) for p in programs[i % 8::8][:5]])
    rows = total_clicks // per_row
    prog_ids = [p.pk for p in programs]
    aff_ids = [a.pk for a in affiliates]
    started = time.monotonic()
    # Row n: hour n mod 2160 of the last 90 days; m = n div 2160 picks the program (m mod 40), sub1 and country
    # (so keys are distinct while m < 1920) and an affiliate; every row holds `per_row` clicks.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ClickRollup._meta.db_table}
              (network_id, hour, program_id, affiliate_id, sub1, sub2, sub3, sub4, sub5, country,
               clicks, unique_clicks, bot_clicks)
            SELECT %s, date_trunc('hour', now()) - make_interval(hours => (n %% (%s * 24))::int),
                   (%s::bigint[])[1 + (n / (%s * 24)) %% %s],
                   (%s::bigint[])[1 + ((n / (%s * 24)) * 17 + n %% (%s * 24)) %% %s],
                   (%s::text[])[1 + (n / (%s * 24 * 40)) %% 6], '', '', '', '',
                   (%s::text[])[1 + (n / (%s * 24 * 240)) %% 8], %s, %s, 0
            FROM generate_series(0, %s - 1) AS n
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 (our table name)
            [network.pk, DAYS, prog_ids, DAYS, len(prog_ids), aff_ids, DAYS, DAYS, len(aff_ids), SUB1, DAYS,
             COUNTRIES, DAYS, per_row, per_row - 1, rows],
        )
        cursor.execute(f"SELECT count(*), coalesce(sum(clicks), 0) FROM {ClickRollup._meta.db_table}")  # noqa: S608
        rollups, clicks = cursor.fetchone()
        cursor.execute(f"ANALYZE {ClickRollup._meta.db_table}")
    print(f"rollups: {rollups} rows for {clicks} clicks in {time.monotonic() - started:.1f} s", flush=True)
    conversions = total_clicks // 100
    started = time.monotonic()
    from django.utils import timezone

    now = timezone.now()
    batch = 5000
    for start in range(0, conversions, batch):
        made = Conversion.objects.bulk_create([
            Conversion(network=network, advertiser_id=programs[n % PROGRAMS].advertiser_id, order_id=f"B-{n}",
                       amount=Decimal("100.00"), currency="EUR", attribution="click", program=programs[n % PROGRAMS],
                       affiliate_id=aff_ids[n * 13 % AFFILIATES], sub1=SUB1[n % 6], country=COUNTRIES[n % 8])
            for n in range(start, min(start + batch, conversions))])
        Commission.objects.bulk_create([
            Commission(network=network, kind="sale", status="approved", program_id=c.program_id,
                       advertiser_id=c.advertiser_id, affiliate_id=c.affiliate_id, conversion=c, currency="EUR",
                       amount=Decimal("8.00"), revenue=Decimal("10.00")) for c in made])
    with connection.cursor() as cursor:
        # Spread the conversions evenly over the 90 days (auto_now_add stamped them all now).
        cursor.execute(f"UPDATE {Conversion._meta.db_table} SET created_at = %s - make_interval("  # noqa: S608
                       "mins => ((id %% %s) * %s)::int)", [now, conversions, DAYS * 24 * 60 // max(conversions, 1)])
        cursor.execute("ANALYZE")
    print(f"conversions and commissions: {conversions} each in {time.monotonic() - started:.1f} s", flush=True)
    network = Network.objects.get(pk=network.pk)
    return network, {"owner": owner_key, "advertiser": adv_key, "affiliate": aff_key}, programs[0]


def measure(keys: dict, program, runs: int) -> list[tuple]:
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    today = timezone.localdate()
    d30, d90 = (today - timedelta(days=29)).isoformat(), (today - timedelta(days=89)).isoformat()
    cases = [
        ("owner", "day, 30 days", {"group_by": "day", "date_from": d30}),
        ("owner", "program, 30 days", {"group_by": "program", "date_from": d30}),
        ("owner", "affiliate, 30 days", {"group_by": "affiliate", "date_from": d30}),
        ("owner", "sub1, 30 days", {"group_by": "sub1", "date_from": d30}),
        ("owner", "month, 90 days", {"group_by": "month", "date_from": d90}),
        ("owner", "day, 30 days, one program", {"group_by": "day", "date_from": d30, "program": program.pk}),
        ("owner", "day, 30 days, CSV", {"group_by": "day", "date_from": d30, "format": "csv"}),
        ("advertiser", "week, 90 days", {"group_by": "week", "date_from": d90}),
        ("affiliate", "day, 30 days", {"group_by": "day", "date_from": d30}),
    ]
    results = []
    for role, name, params in cases:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {keys[role]}")
        first = client.get("/api/v1/reports", params, secure=True)
        assert first.status_code == 200, (first.status_code, first.content[:300])
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/api/v1/reports", params, secure=True)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        results.append((role, name, statistics.median(times), p95))
        print(f"{role:10} {name:28} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10_000_000)
    parser.add_argument("--clicks-per-row", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="time the API on the data of a previous run")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_reports")
    if args.reuse:
        setup(url)
        keys, program = reuse()
    else:
        recreate(url)
        setup(url)
        _network, keys, program = seed(args.clicks, args.clicks_per_row)
    measure(keys, program, args.runs)


def reuse():
    """Fresh keys for the owner, the first advertiser and the first affiliate of the existing bench network."""
    from network import services
    from network.models import Membership, Network, Role
    from programs.models import Program

    network = Network.objects.get(slug="bench")
    members = Membership.objects.filter(network=network).order_by("pk")
    keys = {name: services.api_key_create(membership=members.filter(role=role).first()).raw
            for name, role in (("owner", Role.OWNER), ("advertiser", Role.ADVERTISER),
                               ("affiliate", Role.AFFILIATE))}
    return keys, Program.objects.for_network(network).order_by("pk").first()


if __name__ == "__main__":
    main()
