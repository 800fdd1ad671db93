#!/usr/bin/env python3
"""Fault drills against the production shape: each breaks one part on purpose and checks that nothing is lost,
doubled or left stuck. Every drill prints its figures and a verdict (exit code 0 when OK).

    .venv/bin/python bench/faults.py redis-down [--duration 12] [--down-at 3] [--down-for 4]
    .venv/bin/python bench/faults.py ingester-kill [--clicks 200000] [--kills 4]
    .venv/bin/python bench/faults.py worker-kill-payout [--affiliates 30] [--kills 3]
    .venv/bin/python bench/faults.py webhook-timeout
    .venv/bin/python bench/faults.py all

redis-down          wrk drives /c/<code> (granian, 2 workers) while the continuous ingester runs; Redis is
                    killed (SIGKILL) and restarted a few seconds later. Every redirect must be answered (0 non-302,
                    0 socket errors) and every answered click stored exactly once (while Redis is down the
                    clicks are written straight to PostgreSQL).
ingester-kill       N clicks queued, then `manage.py ingest_clicks` killed (SIGKILL) several times mid-batch and
                    restarted; after the drain, stored == queued, 0 doubled, rollup counters == raw clicks.
worker-kill-payout  a real Celery worker (Redis broker) runs a payout batch against a local Stripe stand-in that
                    honours Idempotency-Key; the worker is killed (SIGKILL) while a transfer request is in flight,
                    several times, and restarted: each payout has exactly one transfer, the ledger balances.
webhook-timeout     a webhook receiver slower than the timeout: the delivery (real worker, real API) is retried
                    with exponential backoff, marked failed, listed by GET /api/v1/deliveries?status=failed, and
                    a resend succeeds once the receiver answers.

Each drill uses its own Redis (a redis-server on a free loopback port, append-only file; fsynced on every write
for redis-down)
and a fresh PostgreSQL database named <BENCH_DB_PREFIX><drill> (default prefix bench_faults_ on
postgres://postgres@127.0.0.1:5432; override the server with BENCH_PG_URL). Needs redis-server and wrk.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from _common import (
    PYTHON,
    ROOT,
    SEED_LINK,
    WRK_IDS_SCRIPT,
    PrivateRedis,
    bench_env,
    count_clicks,
    django_setup,
    ensure_wrk,
    free_port,
    get_status,
    manage,
    recreate_database,
    require_loopback,
    start_granian,
    start_group,
    stop_group,
    wait_for,
    wrk_field,
    wrk_socket_errors,
)

sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench_faults_")


def database(drill: str) -> str:
    url = f"{PG}/{PREFIX}{drill}"
    require_loopback(url)
    recreate_database(url)
    return url


def verdict(ok: bool, what: str) -> int:
    print(f"verdict              {'OK' if ok else 'FAILED'}: {what}", flush=True)
    return 0 if ok else 1


def celery_worker(env, log) -> subprocess.Popen:
    return start_group([PYTHON, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING",
                        "--without-gossip", "--without-mingle", "--without-heartbeat"], env, log)


# --- redis-down ------------------------------------------------------------------------------------------
def redis_down(args) -> int:
    ensure_wrk()
    redis = PrivateRedis(fsync=args.fsync).start()
    env = bench_env(database("redis"), redis.url)
    manage(env, "migrate", "--noinput", "-v0")
    code = manage(env, "shell", "-c", SEED_LINK).strip().splitlines()[-1]
    port = free_port()
    path = f"/c/{code}?sub2=faults"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ids_file, script = tmp / "answered.txt", tmp / "ids.lua"
        script.write_text(WRK_IDS_SCRIPT)
        with open(tmp / "server.log", "w") as server_log, open(tmp / "ingester.log", "w") as ingester_log:
            server = start_granian(env, port, workers=2, log=server_log)
            ingester = start_group([PYTHON, "manage.py", "ingest_clicks", "--stale-ms", "3000", "--block-ms", "500"],
                                   env, ingester_log)
            try:
                wait_for(port)
                for _ in range(40):  # warm each worker's link cache (HEAD records no click)
                    assert get_status(port, path, "HEAD") == 302
                print(f"wrk: {args.connections} connections, {args.duration}s, GET /c/{code}; Redis killed at "
                      f"{args.down_at}s for {args.down_for}s", flush=True)
                wrk = subprocess.Popen(
                    ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script),
                     "-H", "User-Agent: Mozilla/5.0 (X11; Linux x86_64) faults", f"http://127.0.0.1:{port}{path}"],
                    env={**env, "WRK_IDS_FILE": str(ids_file)}, stdout=subprocess.PIPE, text=True,
                )
                time.sleep(args.down_at)
                redis.stop(signal.SIGKILL)
                down_at = time.monotonic()
                time.sleep(args.down_for)
                redis.start()
                print(f"Redis down for {time.monotonic() - down_at:.1f}s (SIGKILL, then restarted)", flush=True)
                output = wrk.communicate(timeout=args.duration + 60)[0]
                time.sleep(1)  # the writer threads flush what the last requests handed them
            finally:
                stop_group(server)
                stop_group(ingester)
        print(output)
        drained = manage(env, "ingest_clicks", "--once", "--stale-ms", "0").strip()
        answered, answered_distinct, lost, stored, stored_distinct, rollup = count_clicks(env, ids_file)
        server_text = (tmp / "server.log").read_text()
        direct = sum(int(n) for n in re.findall(r"writing (\d+) clicks directly", server_text))
        direct += server_text.count("writing the click directly")
        both_failed = server_text.count("click lost")
        ingester_retries = (tmp / "ingester.log").read_text().count("ingest failed, retrying")
    redis.close()
    not_302 = next((line.split()[1] for line in output.splitlines() if line.startswith("not_302")), "?")
    socket_errors = wrk_socket_errors(output)
    doubled = answered - answered_distinct + stored - stored_distinct
    print("=== redis-down ===")
    print(f"requests/s           {wrk_field(output, 'Requests/sec')}")
    print(f"latency p50 / p99    {wrk_field(output, '50%')} / {wrk_field(output, '99%')}")
    print(f"302s answered        {answered} (other answers: {not_302}; socket errors: {socket_errors})")
    print(f"written directly     {direct} clicks while the queue was down (queue and database both failed: "
          f"{both_failed})")
    print(f"ingester             {ingester_retries} failed reads retried; final drain: {drained}")
    print(f"clicks stored        {stored} (distinct click ids: {stored_distinct}; rollup clicks: {rollup})")
    print(f"lost                 {lost} (answered click ids missing from the database)")
    print(f"doubled              {doubled}")
    ok = (answered > 0 and not_302 == "0" and socket_errors == 0 and lost == 0 and doubled == 0
          and rollup == stored and direct > 0 and both_failed == 0)
    return verdict(ok, "every redirect answered, every answered click stored once, the fallback was used")


# --- ingester-kill ---------------------------------------------------------------------------------------
FILL = """
from tracking import click_queue, clicks
from tracking.ids import new_click_id
link, program = clicks.link_lookup({code!r})
conn = click_queue.client(read_timeout=10)
pipe = conn.pipeline(transaction=False)
agents = ["Mozilla/5.0 (X11; Linux x86_64) faults", "Mozilla/5.0 (iPhone) faults", "Googlebot/2.1"]
batch = []
for n in range({clicks}):
    meta = {{"REMOTE_ADDR": f"198.51.100.{{n % 200}}", "HTTP_USER_AGENT": agents[n % 3], "QUERY_STRING": ""}}
    batch.append(clicks.click_record(link, new_click_id(), clicks.merge_subs(link["subs"], {{"sub1": "s%d" % (n % 7)}}),
                                     meta))
    if len(batch) == 64:
        pipe.xadd(click_queue.settings.CLICK_STREAM, {{click_queue.FIELD: click_queue.encode(batch)}})
        batch = []
        if len(pipe) >= 200:
            pipe.execute()
if batch:
    pipe.xadd(click_queue.settings.CLICK_STREAM, {{click_queue.FIELD: click_queue.encode(batch)}})
pipe.execute()
print(conn.xlen(click_queue.settings.CLICK_STREAM))
"""


def ingester_kill(args) -> int:
    import psycopg2

    redis = PrivateRedis().start()
    url = database("ingest")
    env = bench_env(url, redis.url)
    manage(env, "migrate", "--noinput", "-v0")
    code = manage(env, "shell", "-c", SEED_LINK).strip().splitlines()[-1]
    started = time.monotonic()
    entries = int(manage(env, "shell", "-c", FILL.format(code=code, clicks=args.clicks)).split()[-1])
    print(f"queued {args.clicks} clicks in {entries} stream entries ({time.monotonic() - started:.1f}s)", flush=True)
    parts = urlsplit(url)
    db = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                          dbname=parts.path.lstrip("/"))
    db.autocommit = True

    def stored() -> int:
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tracking_click")
            return cursor.fetchone()[0]

    def open_transactions() -> int:
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                           "AND xact_start IS NOT NULL", [parts.path.lstrip("/")])
            return cursor.fetchone()[0]

    rng = random.Random(args.seed)
    kills = []
    command = [PYTHON, "manage.py", "ingest_clicks", "--batch", str(args.batch), "--stale-ms", "1000",
               "--block-ms", "200"]
    for _ in range(args.kills):
        before = stored()
        ingester = start_group(command, env, subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while stored() == before and time.monotonic() < deadline:  # wait for its first committed batch
            time.sleep(0.05)
        time.sleep(rng.uniform(0.05, 0.6))
        in_transaction = open_transactions()
        stop_group(ingester, signal.SIGKILL)
        kills.append((stored(), in_transaction))
        if kills[-1][0] >= args.clicks:
            print("the ingester drained everything before a kill: use more --clicks", flush=True)
            break
    time.sleep(1.2)  # the killed consumers' unacknowledged entries become claimable (--stale-ms 1000)
    drained = manage(env, "ingest_clicks", "--once", "--stale-ms", "1000", "--batch", str(args.batch)).strip()
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT click_id) FROM tracking_click")
        total, distinct = cursor.fetchone()
        cursor.execute("SELECT coalesce(sum(clicks), 0), coalesce(sum(unique_clicks), 0), "
                       "coalesce(sum(bot_clicks), 0) FROM tracking_clickrollup")
        rollup_clicks, rollup_unique, rollup_bots = cursor.fetchone()
        cursor.execute("SELECT count(*) FILTER (WHERE is_unique AND NOT is_bot), count(*) FILTER (WHERE is_bot) "
                       "FROM tracking_click")
        raw_unique, raw_bots = cursor.fetchone()
    db.close()
    import redis as redis_py

    conn = redis_py.Redis(port=redis.port)
    left = conn.xlen("afn:clicks")
    pending = conn.xpending("afn:clicks", "ingesters")["pending"]
    redis.close()
    print("=== ingester-kill ===")
    for n, (count, in_transaction) in enumerate(kills, 1):
        print(f"kill {n}               SIGKILL with {count} clicks stored "
              f"({'a batch transaction open' if in_transaction else 'between batches'})")
    print(f"final drain          {drained}")
    print(f"queued / stored      {args.clicks} / {total} (distinct click ids: {distinct})")
    print(f"doubled              {total - distinct}")
    print(f"rollups vs raw       clicks {rollup_clicks} / {total}, unique {rollup_unique} / {raw_unique}, "
          f"bots {rollup_bots} / {raw_bots}")
    print(f"stream left          {left} entries, {pending} pending")
    ok = (total == distinct == args.clicks == rollup_clicks and rollup_unique == raw_unique
          and rollup_bots == raw_bots and left == 0 and pending == 0 and len(kills) == args.kills)
    return verdict(ok, "stored == queued, 0 doubled, rollups equal the raw clicks")


class LocalServer:
    """A threaded HTTP server on a free loopback port, serving a drill's stand-in until `close()`."""

    def serve(self, handler, path: str = "") -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- worker-kill-payout ----------------------------------------------------------------------------------
class StripeStandIn(LocalServer):
    """POST /v1/transfers (the same Idempotency-Key answers the same transfer, as Stripe does) and
    GET /v1/transfers?transfer_group=. A transfer is recorded on arrival and answered `delay` seconds later:
    a worker killed in between has made a transfer it never heard about."""

    def __init__(self, delay: float):
        self.delay = delay
        self.lock = threading.Lock()
        self.transfers: dict[str, dict] = {}
        self.by_key: dict[str, dict] = {}
        self.posts = self.replays = self.lists = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, body: dict, status: int = 200):
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Request-Id", f"req_{time.time_ns()}")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed while waiting

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                key = self.headers.get("Idempotency-Key")
                with stand_in.lock:
                    stand_in.posts += 1
                    transfer = stand_in.by_key.get(key)
                    if transfer is not None:
                        stand_in.replays += 1
                    else:
                        transfer = {"id": f"tr_{len(stand_in.transfers) + 1:08d}", "object": "transfer",
                                    "amount": int(params["amount"]), "currency": params["currency"],
                                    "destination": params["destination"],
                                    "transfer_group": params.get("transfer_group"), "reversed": False,
                                    "amount_reversed": 0, "livemode": False, "created": int(time.time()),
                                    "metadata": {}}
                        stand_in.transfers[transfer["id"]] = transfer
                        if key:
                            stand_in.by_key[key] = transfer
                time.sleep(stand_in.delay)
                self._reply(transfer)

            def do_GET(self):
                group = parse_qs(urlsplit(self.path).query).get("transfer_group", [None])[0]
                with stand_in.lock:
                    stand_in.lists += 1
                    data = [t for t in stand_in.transfers.values() if t["transfer_group"] == group]
                self._reply({"object": "list", "url": "/v1/transfers", "has_more": False, "data": data})

            def log_message(self, *args):
                pass

        self.serve(Handler)


def _seed_payouts(affiliates: int, conversions: int):
    from decimal import Decimal

    from commissions.services import commission_approve, commissions_for_conversion
    from network import services
    from payouts.models import MethodKind, PayoutMethod
    from programs.models import CommissionRule, Partnership, Program, TrackingLink
    from tracking.models import Conversion

    network, _ = services.network_create(name="Faults", slug="faults", currency="EUR", owner_email="o@faults.test")
    network.payout_settings = {"thresholds": {"EUR": "1.00"}}
    network.save(update_fields=["payout_settings"])
    advertiser, _ = services.advertiser_create(network=network, name="Shop", email="shop@faults.test")
    program = Program.objects.create(network=network, advertiser=advertiser, name="Faults", currency="EUR",
                                     landing_url="https://shop.faults.test/")
    CommissionRule.objects.create(network=network, program=program, event="sale", kind="fixed",
                                  payout=Decimal("12.34"), revenue=Decimal("15.00"))
    for i in range(affiliates):
        affiliate, _ = services.affiliate_create(network=network, name=f"Pub {i}", email=f"pub{i}@faults.test")
        partnership = Partnership.objects.create(network=network, program=program, affiliate=affiliate,
                                                 status="approved")
        link = TrackingLink.objects.create(network=network, partnership=partnership, program=program,
                                           affiliate=affiliate)
        PayoutMethod.objects.create(network=network, affiliate=affiliate, kind=MethodKind.STRIPE_CONNECT,
                                    is_default=True, stripe_account_id=f"acct_faults{i:04d}", stripe_onboarded=True)
        for n in range(conversions):
            conversion = Conversion.objects.create(
                network=network, advertiser=advertiser, order_id=f"F-{i}-{n}", amount=Decimal("100.00"),
                currency="EUR", attribution="click", program=program, partnership=partnership, affiliate=affiliate,
                link=link)
            for commission in commissions_for_conversion(conversion_id=conversion.pk):
                commission_approve(network=network, commission=commission, operator=True)
    return network


def _ledger_problems() -> list[str]:
    from collections import defaultdict
    from decimal import Decimal

    from commissions.models import Account, LedgerEntry

    per_txn, per_account = defaultdict(Decimal), defaultdict(Decimal)
    for txn_id, account_id, currency, amount in LedgerEntry.objects.values_list(
            "transaction_id", "account_id", "currency", "amount"):
        per_txn[txn_id, currency] += amount
        per_account[account_id] += amount
    problems = [f"transaction {key} sums to {total}" for key, total in per_txn.items() if total]
    problems += [f"account {pk} caches {balance}, entries sum to {per_account[pk]}"
                 for pk, balance in Account.objects.values_list("pk", "balance") if balance != per_account[pk]]
    return problems


def worker_kill_payout(args) -> int:
    stand_in = StripeStandIn(delay=args.stripe_delay)
    redis = PrivateRedis().start()
    env = bench_env(database("payout"), redis.url, CELERY_TASK_ALWAYS_EAGER="0", STRIPE_SECRET_KEY="sk_test_faults",
                    STRIPE_API_BASE=stand_in.url, CELERY_VISIBILITY_TIMEOUT=str(args.visibility_timeout))
    django_setup(env)
    started = time.monotonic()
    network = _seed_payouts(args.affiliates, args.conversions)
    print(f"seeded {args.affiliates} affiliates x {args.conversions} approved commissions "
          f"({time.monotonic() - started:.1f}s)", flush=True)
    from commissions.models import Account
    from core.money import to_minor
    from payouts.batches import payout_batch_start
    from payouts.models import Payout, PayoutBatch
    from payouts.tasks import payout_batch_run_task

    rng = random.Random(args.seed)
    kills = []
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "worker.log", "w") as log:
        worker = celery_worker(env, log)
        try:
            batch = payout_batch_start(network=network)
            payout_batch_run_task.delay(batch.pk)
            print(f"batch {batch.pk} queued; the worker is killed while a transfer request is in flight", flush=True)
            targets = sorted(rng.sample(range(2, args.affiliates - 1), args.kills))
            for target in targets:
                deadline = time.monotonic() + 120
                while len(stand_in.transfers) < target and time.monotonic() < deadline:
                    time.sleep(0.005)
                stop_group(worker, signal.SIGKILL)
                kills.append((len(stand_in.transfers),
                              Payout.objects.filter(batch=batch, status=Payout.Status.PROCESSING).count()))
                # The unacknowledged task goes back to the queue once the visibility timeout has passed; a worker
                # starting after that restores it at once.
                time.sleep(args.visibility_timeout + 1)
                worker = celery_worker(env, log)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                batch.refresh_from_db()
                if batch.status not in PayoutBatch.RUNNING:
                    break
                time.sleep(0.3)
        finally:
            stop_group(worker)
            stand_in.close()
        worker_log = (Path(tmp) / "worker.log").read_text()
    redis.close()
    payouts = list(Payout.objects.filter(batch=batch).order_by("pk"))
    by_group: dict[str, list[dict]] = {}
    for transfer in stand_in.transfers.values():
        by_group.setdefault(transfer["transfer_group"], []).append(transfer)
    wrong = [p.pk for p in payouts if len(by_group.get(p.reference, [])) != 1
             or by_group[p.reference][0]["id"] != p.provider_reference
             or by_group[p.reference][0]["amount"] != to_minor(p.net, p.currency)]
    stray = set(by_group) - {p.reference for p in payouts}
    problems = _ledger_problems()
    approved_left = sum(Account.objects.filter(kind=Account.Kind.AFFILIATE_APPROVED).values_list("balance", flat=True))
    clearing = -sum(Account.objects.filter(kind=Account.Kind.PAYOUTS_CLEARING).values_list("balance", flat=True))
    paid_out = sum(p.amount for p in payouts)
    statuses = {}
    for payout in payouts:
        statuses[payout.status] = statuses.get(payout.status, 0) + 1
    print("=== worker-kill-payout ===")
    for n, (transfers, recorded) in enumerate(kills, 1):
        print(f"kill {n}               SIGKILL with {transfers} transfers at Stripe, {recorded} recorded as sent")
    print(f"batch                {batch.status}; payouts {statuses} of {args.affiliates} affiliates")
    print(f"stripe requests      {stand_in.posts} POST /v1/transfers ({stand_in.replays} idempotent replays), "
          f"{stand_in.lists} look-ups by transfer_group")
    print(f"transfers            {len(stand_in.transfers)} for {len(payouts)} payouts; payouts without exactly one "
          f"matching transfer: {len(wrong)}; transfers of no payout: {len(stray)}")
    print(f"ledger               {len(problems)} unbalanced transactions or stale balances; approved left "
          f"{approved_left:.2f}, in payouts clearing {clearing:.2f} = paid out {paid_out:.2f}")
    if "Traceback" in worker_log and args.verbose:
        print(worker_log[-3000:])
    ok = (batch.status == PayoutBatch.Status.PROCESSING and len(payouts) == args.affiliates
          and statuses == {Payout.Status.PROCESSING: args.affiliates} and not wrong and not stray and not problems
          and len(stand_in.transfers) == args.affiliates and approved_left == 0 and clearing == paid_out
          and len(kills) == args.kills)
    return verdict(ok, "each payout has exactly one transfer, the ledger balances")


# --- webhook-timeout -------------------------------------------------------------------------------------
class SlowReceiver(LocalServer):
    """Records each request's arrival time; answers 200 after `delay` seconds."""

    def __init__(self, delay: float):
        self.delay = delay
        self.arrivals: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.arrivals.append(time.monotonic())
                time.sleep(receiver.delay)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.serve(Handler, path="/hooks")


def api(port: int, key: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def webhook_timeout(args) -> int:
    receiver = SlowReceiver(delay=args.timeout * 5)
    redis = PrivateRedis().start()
    env = bench_env(database("webhook"), redis.url, CELERY_TASK_ALWAYS_EAGER="0", OUTBOUND_ALLOW_PRIVATE="1",
                    OUTBOUND_TIMEOUT_SECONDS=str(args.timeout), OUTBOUND_RETRY_BASE_SECONDS=str(args.backoff),
                    OUTBOUND_MAX_ATTEMPTS=str(args.attempts))
    django_setup(env)
    from network import services

    _network, issued = services.network_create(name="Faults", slug="faults", currency="EUR",
                                               owner_email="o@faults.test")
    key = issued.raw
    port = free_port()
    expected_backoff = [args.backoff * 2 ** n for n in range(args.attempts - 1)] + [None]
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "processes.log", "w") as log:
        server = start_granian(env, port, workers=1, threads=2, log=log)
        worker = celery_worker(env, log)
        try:
            wait_for(port)
            status, endpoint = api(port, key, "POST", "/api/v1/webhooks", {"url": receiver.url, "events": ["*"]})
            assert status == 201, (status, endpoint)
            status, queued = api(port, key, "POST", f"/api/v1/webhooks/{endpoint['id']}/test")
            assert status == 202, (status, queued)
            delivery_id = queued["id"]
            sent = time.monotonic()
            print(f"delivery {delivery_id} queued to a receiver that answers after {receiver.delay:.0f}s "
                  f"(timeout {args.timeout}s, backoff base {args.backoff}s, {args.attempts} attempts)", flush=True)
            detail = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                detail = api(port, key, "GET", f"/api/v1/deliveries/{delivery_id}")[1]
                if detail.get("status") != "pending":
                    break
                time.sleep(0.25)
            failed_after = time.monotonic() - sent
            listed = api(port, key, "GET", "/api/v1/deliveries?status=failed")[1]["results"]
            gaps = [later - earlier for earlier, later in zip(receiver.arrivals, receiver.arrivals[1:], strict=False)]
            receiver.delay = 0
            status, _ = api(port, key, "POST", f"/api/v1/deliveries/{delivery_id}/resend")
            resent = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                resent = api(port, key, "GET", f"/api/v1/deliveries/{delivery_id}")[1]
                if resent.get("status") != "pending":
                    break
                time.sleep(0.25)
        finally:
            stop_group(worker)
            stop_group(server)
            receiver.close()
    redis.close()
    log_rows = detail.get("attempt_log", [])
    backoff = [row["retry_in_seconds"] for row in log_rows]
    errors = {row["error"] for row in log_rows}
    # Attempt n+1 starts after attempt n's timeout and the n-th backoff countdown (the worker adds a little).
    gaps_ok = len(gaps) == args.attempts - 1 and all(
        gap >= args.timeout + wait - 0.2 for gap, wait in zip(gaps, expected_backoff, strict=False))
    print("=== webhook-timeout ===")
    print(f"failed after         {failed_after:.1f}s: status {detail.get('status')}, {detail.get('attempts')} attempts,"
          f" last status code {detail.get('last_status_code')}, errors {sorted(errors)}")
    print(f"backoff (s)          {backoff} (expected {expected_backoff})")
    print(f"attempt gaps (s)     {[round(g, 1) for g in gaps]} (timeout + backoff)")
    print(f"listed as failed     {[row['id'] for row in listed]}")
    print(f"resend               {status}: then {resent.get('status')} after {resent.get('attempts')} attempts, "
          f"last status code {resent.get('last_status_code')}")
    ok = (detail.get("status") == "failed" and detail.get("attempts") == args.attempts and backoff == expected_backoff
          and detail.get("last_status_code") is None and errors == {"timed out"} and gaps_ok
          and [row["id"] for row in listed] == [delivery_id] and status == 202
          and resent.get("status") == "succeeded" and resent.get("attempts") == args.attempts + 1
          and resent.get("last_status_code") == 200)
    return verdict(ok, "retried with backoff, failed, listed, resent once the receiver answered")


DRILLS = {"redis-down": redis_down, "ingester-kill": ingester_kill, "worker-kill-payout": worker_kill_payout,
          "webhook-timeout": webhook_timeout}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drill", choices=[*DRILLS, "all"])
    parser.add_argument("--seed", type=int, default=7, help="random seed of the kill points")
    parser.add_argument("--verbose", action="store_true")
    group = parser.add_argument_group("redis-down")
    group.add_argument("--duration", type=int, default=12, help="seconds of wrk load")
    group.add_argument("--connections", type=int, default=32)
    group.add_argument("--down-at", type=float, default=3, help="seconds into the load when Redis is killed")
    group.add_argument("--down-for", type=float, default=4, help="seconds Redis stays down")
    group.add_argument("--fsync", choices=["always", "everysec"], default="always",
                       help="Redis appendfsync: everysec may lose the last second of queued clicks on a kill")
    group = parser.add_argument_group("ingester-kill")
    group.add_argument("--clicks", type=int, default=200_000)
    group.add_argument("--batch", type=int, default=2000)
    group.add_argument("--kills", type=int, default=4, help="also the kills of worker-kill-payout")
    group = parser.add_argument_group("worker-kill-payout")
    group.add_argument("--affiliates", type=int, default=30, help="payouts in the batch")
    group.add_argument("--conversions", type=int, default=2, help="approved commissions per affiliate")
    group.add_argument("--stripe-delay", type=float, default=0.2, help="seconds the stand-in takes per transfer")
    group.add_argument("--visibility-timeout", type=int, default=3)
    group = parser.add_argument_group("webhook-timeout")
    group.add_argument("--timeout", type=float, default=1.0, help="OUTBOUND_TIMEOUT_SECONDS")
    group.add_argument("--backoff", type=int, default=1, help="OUTBOUND_RETRY_BASE_SECONDS")
    group.add_argument("--attempts", type=int, default=4, help="OUTBOUND_MAX_ATTEMPTS")
    args = parser.parse_args()
    if args.drill != "all":
        return DRILLS[args.drill](args)
    # Each drill sets up Django for its own database: run each in its own process.
    codes = [subprocess.run([PYTHON, __file__, name, *sys.argv[2:]], cwd=ROOT).returncode for name in DRILLS]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
