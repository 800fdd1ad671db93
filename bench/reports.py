#!/usr/bin/env python3
"""Benchmark of the reports (GET /api/v1/reports) and the three parties' dashboards over a large synthetic
network on PostgreSQL: every grouping for the owner, each role's main reports, CSV, and the overview pages.

Drops and recreates the bench database, migrates, creates one network (Europe/Berlin) with 10 advertisers,
40 programs, 500 affiliates and 2,500 partnerships (each affiliate in 5 programs), then writes 90 days of hourly
click rollups, conversions and their commissions with SQL (INSERT ... SELECT over generate_series, as the
ingester and the services never would), and builds the day tables from them with `reports.rebuild.days_rebuild`
(as `manage.py rebuild_daily_figures` does), printing how long each step took and how many rows each table has.
Then it times the API and the pages in-process (Django test client, API-key auth or a logged-in session, the
real views and queries), each case `--runs` times after one warm-up, and prints a markdown table of p50/p95.

The data's shape. A report key is (partnership, sub1, country): 2,500 x 6 x 8 = 120,000 keys, ranked by how busy
they are (the rank scrambled over partnerships, sub1 and countries so every affiliate has busy and quiet keys).
Traffic is `--clicks` clicks as draws of `--clicks-per-row` clicks (5 up to 10 M clicks, then clicks / 5 M:
20 for 100 M), spread evenly over the 2,160 hours; each draw picks a key by a Zipf-like law (the key of rank r
with a probability ~ 1/(r+1): the busiest 1 % of keys take 61 % of the draws) and draws of one key and hour are
one rollup row. So busy keys recur every hour and day, the tail now and then. Measured:

| clicks | draws | hourly rows | click day rows (a day) | conversion and commission day rows |
| --- | --- | --- | --- | --- |
| 10 M | 2 M of 5 (926 an hour) | 1.32 M (14,700 a day) | 784,000 (8,700) | 65,000 each (100,000 conversions) |
| 100 M | 5 M of 20 (2,315 an hour) | 2.92 M (32,400 a day) | 1.57 M (17,500) | 451,000 each (1 M conversions) |

Conversions (1 % of clicks) draw their keys by the same law, spread evenly over the 90 days; each has a
commission of 8.00 (revenue 10.00): pending in the last 14 days, approved up to 45 days back, paid before.

    .venv/bin/python bench/reports.py [--clicks 10000000] [--clicks-per-row N] [--runs 30] [--reuse] [--explain]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_reports; dropped and created
unless --reuse).
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import percentile, recreate_database  # noqa: E402

PROGRAMS, AFFILIATES, ADVERTISERS, DAYS, PROGRAMS_PER_AFFILIATE = 40, 500, 10, 90, 5
SUB1 = ["fb", "ig", "newsletter", "seo", "yt", "tiktok"]
COUNTRIES = ["DE", "AT", "CH", "FR", "NL", "GB", "US", "IT"]
PARTNERSHIPS = AFFILIATES * PROGRAMS_PER_AFFILIATE
KEYS = PARTNERSHIPS * len(SUB1) * len(COUNTRIES)
SCRAMBLE = 7919  # a prime not dividing KEYS: rank -> key is one-to-one


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
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    # Pages render in-process without collectstatic's manifest.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("migrate", verbosity=0)


def key_sql(n: str) -> str:
    """SQL of draw `n`'s key (0 .. KEYS-1): a Zipf-like rank (P(rank < x) = ln(x+1) / ln(KEYS+1)) from a hash of
    n, scrambled so that rank order does not follow partnership, sub1 or country order."""
    u = f"((hashint8(({n})::bigint)::bigint + 2147483648) / 4294967296.0)"
    return f"(((floor(exp(ln({KEYS} + 1) * {u})) - 1)::bigint * {SCRAMBLE}) % {KEYS})"


# A key's dimensions; %(p)s: the partnerships' arrays (program, affiliate, advertiser) in the same order.
DIMENSIONS = f"""
    (%(programs)s::bigint[])[1 + k % {PARTNERSHIPS}] AS program_id,
    (%(affiliates)s::bigint[])[1 + k % {PARTNERSHIPS}] AS affiliate_id,
    (%(advertisers)s::bigint[])[1 + k % {PARTNERSHIPS}] AS advertiser_id,
    (%(sub1)s::text[])[1 + (k / {PARTNERSHIPS}) % {len(SUB1)}] AS sub1,
    (%(countries)s::text[])[1 + k / ({PARTNERSHIPS} * {len(SUB1)})] AS country"""


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
    partnerships = Partnership.objects.bulk_create([
        Partnership(network=network, program=p, affiliate=a, status="approved")
        for i, a in enumerate(affiliates) for p in programs[i % 8::8][:PROGRAMS_PER_AFFILIATE]])
    assert len(partnerships) == PARTNERSHIPS
    params = {"network": network.pk, "programs": [p.program_id for p in partnerships],
              "affiliates": [p.affiliate_id for p in partnerships],
              "advertisers": [p.program.advertiser_id for p in partnerships], "sub1": SUB1, "countries": COUNTRIES,
              "per_row": per_row, "draws": total_clicks // per_row}
    hours = DAYS * 24
    started = time.monotonic()
    # Draw n falls in hour n mod 2160 (counted back from this hour); draws of one key and hour are one row.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ClickRollup._meta.db_table}
              (network_id, hour, program_id, affiliate_id, sub1, sub2, sub3, sub4, sub5, country,
               clicks, unique_clicks, bot_clicks, velocity_clicks)
            SELECT %(network)s, hour, program_id, affiliate_id, sub1, '', '', '', '', country,
                   count(*) * %(per_row)s, count(*) * (%(per_row)s - 1), 0, 0
            FROM (SELECT date_trunc('hour', now()) - make_interval(hours => (n % {hours})::int) AS hour, {DIMENSIONS}
                  FROM (SELECT n, {key_sql("n")} AS k FROM generate_series(0, %(draws)s - 1) AS n) AS draws) AS d
            GROUP BY hour, program_id, affiliate_id, sub1, country
            """.replace("%", "%%").replace("%%(", "%("),  # noqa: S608 (our table name)
            params,
        )
        cursor.execute(f"ANALYZE {ClickRollup._meta.db_table}")
        cursor.execute(f"SELECT count(*), coalesce(sum(clicks), 0) FROM {ClickRollup._meta.db_table}")  # noqa: S608
        rollups, clicks = cursor.fetchone()
    print(f"hourly rollups: {rollups:,} rows for {clicks:,} clicks ({params['draws']:,} draws of {per_row}) "
          f"in {time.monotonic() - started:.1f} s", flush=True)

    conversions = total_clicks // 100
    started = time.monotonic()
    # One conversion and its commission made through the ORM (every column's default), copied with SQL.
    template = Conversion.objects.create(
        network=network, advertiser_id=programs[0].advertiser_id, order_id="TEMPLATE", amount=Decimal("100.00"),
        currency="EUR", attribution="click", program=programs[0], affiliate_id=partnerships[0].affiliate_id)
    Commission.objects.create(
        network=network, kind="sale", status="approved", program=programs[0], advertiser_id=template.advertiser_id,
        affiliate_id=template.affiliate_id, conversion=template, currency="EUR", amount=Decimal("8.00"),
        revenue=Decimal("10.00"))
    span = DAYS * 86400 / max(conversions, 1)
    with connection.cursor() as cursor:
        copy_rows(cursor, Conversion, {
            "advertiser_id": "d.advertiser_id", "program_id": "d.program_id", "affiliate_id": "d.affiliate_id",
            "order_id": "'B-' || d.n", "sub1": "d.sub1", "country": "d.country",
            "created_at": f"now() - make_interval(secs => d.n * {span})",
        }, f"""(SELECT n, {DIMENSIONS} FROM (SELECT n, {key_sql("n + 1000000007")} AS k
                FROM generate_series(0, %(conversions)s - 1) AS n) AS draws) AS d""",
            {**params, "conversions": conversions}, template.pk)
        copy_rows(cursor, Commission, {
            "advertiser_id": "c.advertiser_id", "program_id": "c.program_id", "affiliate_id": "c.affiliate_id",
            "conversion_id": "c.id", "created_at": "c.created_at", "status": COMMISSION_STATUS},
            f"{Conversion._meta.db_table} AS c", {}, Commission.objects.get(conversion=template).pk,
            where=f"c.network_id = {network.pk} AND c.id <> {template.pk}")
        Commission.objects.filter(conversion=template).delete()
        template.delete()
        cursor.execute("ANALYZE")
    print(f"conversions and commissions: {conversions:,} each in {time.monotonic() - started:.1f} s", flush=True)
    network = Network.objects.get(pk=network.pk)
    return network, {"owner": owner_key, "advertiser": adv_key, "affiliate": aff_key}, programs[0]


# A commission's status by its age, as holds and payouts move them: what the dashboards' amounts owed read.
COMMISSION_STATUS = ("CASE WHEN c.created_at > now() - interval '14 days' THEN 'pending' "
                     "WHEN c.created_at > now() - interval '45 days' THEN 'approved' ELSE 'paid' END")


def copy_rows(cursor, model, overrides: dict, source: str, params: dict, template_id: int, where: str = "TRUE"):
    """INSERT into `model`'s table one row per row of `source`: the template row's values but for `overrides`
    (column -> SQL expression over `source`)."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    values = [overrides.get(column, f't."{column}"') for column in columns]
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608
           f"FROM {source}, {table} AS t WHERE t.id = {template_id} AND {where}")
    cursor.execute(sql.replace("%", "%%").replace("%%(", "%("), params)


def build_days(network) -> None:
    """The day tables from the rows above, as `manage.py rebuild_daily_figures` builds them."""
    from django.db import connection

    from commissions.models import CommissionDay
    from reports.rebuild import days_rebuild
    from tracking.models import ClickDay, ConversionDay

    started = time.monotonic()
    steps = days_rebuild(network.pk)
    took = time.monotonic() - started
    with connection.cursor() as cursor:
        # Autovacuum would do it soon after such a load: the visibility map lets reports scan the index alone.
        for model in (ClickDay, ConversionDay, CommissionDay):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    counts = {model.__name__: model.objects.count() for model in (ClickDay, ConversionDay, CommissionDay)}
    print(f"day tables rebuilt ({steps} steps) in {took:.1f} s: "
          + ", ".join(f"{name} {count:,} rows" for name, count in counts.items()), flush=True)


def cases(program) -> list[tuple]:
    """(role, name, path, params): every grouping for the owner over 30 days, month over 90, CSV, one program;
    each party's day, program and sub1 reports; then the three overview pages."""
    from datetime import timedelta

    from django.utils import timezone

    from reports.selectors import GROUPS

    today = timezone.localdate()
    d30, d90 = (today - timedelta(days=29)).isoformat(), (today - timedelta(days=89)).isoformat()
    api = "/api/v1/reports"
    found = [("owner", f"{group}, 30 days", api, {"group_by": group, "date_from": d30}) for group in GROUPS]
    found += [
        ("owner", "month, 90 days", api, {"group_by": "month", "date_from": d90}),
        ("owner", "day, 30 days, CSV", api, {"group_by": "day", "date_from": d30, "format": "csv"}),
        ("owner", "day, 30 days, one program", api, {"group_by": "day", "date_from": d30, "program": program.pk}),
    ]
    found += [(role, f"{group}, 30 days", api, {"group_by": group, "date_from": d30})
              for role in ("advertiser", "affiliate") for group in ("day", "program", "sub1")]
    found += [("owner", "dashboard /operator/", "/operator/", {}),
              ("advertiser", "dashboard /advertiser/", "/advertiser/", {}),
              ("affiliate", "dashboard /partner/", "/partner/", {})]
    return found


def clients(network, keys: dict) -> dict:
    """(role, "api" | "page") -> a Client: API-key auth, or a session of the role's first member."""
    from django.test import Client

    from network.auth import SESSION_NETWORK_KEY
    from network.models import Membership, Role

    found = {}
    for name, role in (("owner", Role.OWNER), ("advertiser", Role.ADVERTISER), ("affiliate", Role.AFFILIATE)):
        found[name, "api"] = Client(HTTP_AUTHORIZATION=f"Bearer {keys[name]}")
        page = Client()
        page.force_login(Membership.objects.filter(network=network, role=role).order_by("pk").first().user)
        session = page.session
        session[SESSION_NETWORK_KEY] = network.pk
        session.save()
        found[name, "page"] = page
    return found


def measure(network, keys: dict, program, runs: int) -> list[tuple]:
    made = clients(network, keys)
    print("load average before timing: {:.1f} {:.1f} {:.1f} ({} cores)".format(*os.getloadavg(), os.cpu_count()))
    results = []
    for role, name, path, params in cases(program):
        client = made[role, "api" if path.startswith("/api/") else "page"]
        first = client.get(path, params, secure=True)
        assert first.status_code == 200, (role, name, first.status_code, first.content[:300])
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path, params, secure=True)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        results.append((role, name, statistics.median(times), percentile(times, 0.95)))
        print(f"{role:10} {name:28} p50 {results[-1][2]:7.1f} ms   p95 {results[-1][3]:7.1f} ms", flush=True)
    print("\n| role | report | p50 ms | p95 ms |\n| --- | --- | --- | --- |")
    for role, name, p50, p95 in results:
        print(f"| {role} | {name} | {p50:.0f} | {p95:.0f} |")
    return results


def explain(network, keys: dict, program) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every day-table query of the three heaviest owner reports."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from commissions.models import CommissionDay
    from tracking.models import ClickDay, ConversionDay

    tables = [f'"{model._meta.db_table}"' for model in (ClickDay, ConversionDay, CommissionDay)]
    made = clients(network, keys)
    wanted = {"day, 30 days", "sub1, 30 days", "month, 90 days"}
    for role, name, path, params in cases(program):
        if role != "owner" or name not in wanted:
            continue
        with CaptureQueriesContext(connection) as captured:
            made[role, "api"].get(path, params, secure=True)
        for query in captured.captured_queries:
            if not any(table in query["sql"] for table in tables):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n### owner, {name}\n\n{query['sql']}\n\n{plan}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10_000_000)
    parser.add_argument("--clicks-per-row", type=int, help="5 up to 10 M clicks, else clicks / 5 M")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="time the reports on the data of a previous run")
    parser.add_argument("--explain", action="store_true", help="also EXPLAIN the heaviest owner reports")
    args = parser.parse_args()
    per_row = args.clicks_per_row or max(5, args.clicks // 5_000_000)
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_reports")
    if args.reuse:
        setup(url)
        network, keys, program = reuse()
    else:
        recreate_database(url)
        setup(url)
        network, keys, program = seed(args.clicks, per_row)
        build_days(network)
    measure(network, keys, program, args.runs)
    if args.explain:
        explain(network, keys, program)


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
    return network, keys, Program.objects.for_network(network).order_by("pk").first()


if __name__ == "__main__":
    main()
