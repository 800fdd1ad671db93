"""Concurrent writers on the embedded default (SQLite): no sale may end up without its commission, and
concurrent refunds and payout batch starts answer 4xx or succeed (never 500, never a batch left running).

Migrates a fresh SQLite file, seeds a network with an advertiser, a program (10 %), an affiliate's link and six
clicks, then serves it the README way (`manage.py runserver`, threaded, no environment variables but the
database's path) and has 20 threads post the same six click-attributed orders at once. Then, while the server
runs, it waits (up to `--wait` seconds) for the embedded catch-up, and prints the answers by status, the
conversions, those without a commission and the ledger's sum per currency. Then the threads refund 10.00 of one
order at once (four fit) and, once the commissions are approved, start payout batches at once.

    .venv/bin/python bench/sqlite_concurrency.py --threads 20 --orders 6

Exit status 0 when every postback answered 200/201, there are exactly `--orders` conversions, each with its
commission, the ledger sums to zero, the refunds answered 4 x 200 and the rest 400, the batch starts 201 or 409
and no batch is left running.
"""

import argparse
import collections
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from _common import PYTHON, ROOT, free_port, start_group, stop_group, wait_for

SEED = """
from datetime import timedelta
from django.utils import timezone
from network import services
from programs.models import CommissionRule, Partnership, Program, TrackingLink
from tracking.ids import click_id_time, new_click_id
from payouts.models import PayoutMethod
from tracking.models import Click

network, owner = services.network_create(name="Bench", slug="bench", currency="EUR", owner_email="owner@bench.test")
advertiser, issued = services.advertiser_create(network=network, name="Shop", email="shop@bench.test")
affiliate, _ = services.affiliate_create(network=network, name="Blog", email="blog@bench.test")
program = Program.objects.create(network=network, advertiser=advertiser, name="Bench", currency="EUR",
                                 landing_url="https://shop.bench.test/")
CommissionRule.objects.create(network=network, program=program, kind="percent", payout="10")
partnership = Partnership.objects.create(network=network, program=program, affiliate=affiliate, status="approved")
link = TrackingLink.objects.create(network=network, partnership=partnership, program=program, affiliate=affiliate)
start = timezone.now() - timedelta(hours=1)
ids = []
for n in range(ORDERS):
    click_id = new_click_id(int((start + timedelta(seconds=n)).timestamp() * 1000))
    Click.objects.create(network=network, click_id=click_id, program=program, partnership=partnership, link=link,
                         affiliate=affiliate, created_at=click_id_time(click_id))
    ids.append(click_id)
PayoutMethod.objects.create(network=network, affiliate=affiliate, kind="paypal", paypal_email="blog@bench.test",
                            is_default=True)
print(json.dumps({"key": issued.raw, "owner_key": owner.raw, "clicks": ids}))
"""


def call(port: int, key: str, path: str, body: dict | None = None, method: str = "POST") -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None,
                     {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw or b"{}")
        except ValueError:
            return response.status, {}
    except OSError:
        return 0, {}
    finally:
        conn.close()


def post(port: int, key: str, body: dict) -> int:
    return call(port, key, "/api/v1/conversions", body)[0]


def at_once(count: int, target) -> collections.Counter:
    """`target(n)` (a list of status codes) in `count` threads started together; the codes counted."""
    statuses: collections.Counter = collections.Counter()
    lock, barrier = threading.Lock(), threading.Barrier(count)

    def run(n: int) -> None:
        barrier.wait()
        codes = target(n)
        with lock:
            statuses.update(codes)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def figures(path: Path) -> dict:
    db = sqlite3.connect(path, timeout=30)
    try:
        conversions = db.execute("SELECT COUNT(*) FROM tracking_conversion").fetchone()[0]
        orphans = db.execute(
            "SELECT COUNT(*) FROM tracking_conversion c WHERE c.affiliate_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM commissions_commission m WHERE m.conversion_id = c.id)").fetchone()[0]
        sums: dict = collections.defaultdict(Decimal)
        for currency, amount in db.execute("SELECT a.currency, e.amount FROM commissions_ledgerentry e "
                                           "JOIN commissions_account a ON a.id = e.account_id"):
            sums[currency] += Decimal(str(amount))
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        db.close()
    return {"conversions": conversions, "without_commission": orphans, "journal": journal,
            "ledger_sums": {currency: str(total) for currency, total in sums.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--orders", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=1, help="times each thread posts the orders")
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the embedded catch-up")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    path = folder / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CLICK_QUEUE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{path}", LOG_LEVEL="WARNING",
               TESTING="0", EMBEDDED_CATCH_UP_SECONDS=env.get("EMBEDDED_CATCH_UP_SECONDS", "2"))
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    seeded = subprocess.run([PYTHON, "manage.py", "shell", "-c", f"import json\nORDERS = {args.orders}\n{SEED}"],
                            env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    seed = json.loads(seeded.strip().splitlines()[-1])
    port = free_port()
    log = open(folder / "server.log", "w")  # noqa: SIM115 (open while the server runs)
    server = start_group([PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], env, log=log)
    try:
        wait_for(port)

        def post_orders(n: int) -> list[int]:
            codes = []
            for _ in range(args.rounds):
                for i in range(args.orders):
                    order = (i + n) % args.orders  # every thread starts with another order
                    codes.append(post(port, seed["key"], {"order_id": f"order-{order}", "amount": "49.90",
                                                          "currency": "EUR", "click_id": seed["clicks"][order]}))
            return codes

        started = time.perf_counter()
        statuses = at_once(args.threads, post_orders)
        elapsed = time.perf_counter() - started
        after = figures(path)
        deadline = time.monotonic() + args.wait
        while after["without_commission"] and time.monotonic() < deadline:
            time.sleep(0.5)
            after = figures(path)
        waited = args.wait - max(0.0, deadline - time.monotonic()) if after["without_commission"] == 0 else args.wait
        # The same threads refund 10.00 of the first order at once (4 fit in 49.90), then approve the
        # commissions and start payout batches at once (one runs; the others are refused while it runs).
        _, first = call(port, seed["key"], "/api/v1/conversions?order_id=order-0", method="GET")
        conversion_id = first["results"][0]["id"]
        refunds = at_once(args.threads, lambda n: [call(port, seed["key"], f"/api/v1/conversions/{conversion_id}"
                                                               "/refund", {"amount": "10.00"})[0]])
        _, pending = call(port, seed["key"], "/api/v1/commissions?status=pending", method="GET")
        approvals = collections.Counter(call(port, seed["key"], f"/api/v1/commissions/{c['id']}/approve")[0]
                                        for c in pending["results"])
        batches = at_once(args.threads, lambda n: [call(port, seed["owner_key"], "/api/v1/payout-batches")[0]])
        _, listed = call(port, seed["owner_key"], "/api/v1/payout-batches", method="GET")
        running = [b["id"] for b in listed["results"] if b["status"] in ("gathering", "paying")]
        after = figures(path)
    finally:
        stop_group(server)
        log.close()
    print(f"requests: {sum(statuses.values())} in {elapsed:.2f} s; answers: {dict(sorted(statuses.items()))}")
    print(f"journal mode: {after['journal']}; conversions: {after['conversions']} (expected {args.orders}); "
          f"without a commission: {after['without_commission']} (after waiting up to {waited:.1f} s)")
    print(f"ledger sums per currency: {after['ledger_sums']}; server log: {folder / 'server.log'}")
    print(f"refunds of 10.00 of order-0 (49.90) at once: {dict(sorted(refunds.items()))}; approvals: "
          f"{dict(approvals)}; payout batch starts at once: {dict(sorted(batches.items()))}; batches still "
          f"running: {running}")
    ok = (set(statuses) <= {200, 201} and after["conversions"] == args.orders
          and after["without_commission"] == 0 and all(not Decimal(s) for s in after["ledger_sums"].values())
          and refunds == collections.Counter({200: 4, 400: args.threads - 4})
          and set(batches) <= {201, 409} and batches[201] >= 1 and not running)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
