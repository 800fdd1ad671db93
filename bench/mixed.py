#!/usr/bin/env python3
"""Mixed load on the production shape: redirects, conversion postbacks and report/dashboard reads at once.

Seeds a fresh PostgreSQL database with a reporting history (bench/reports.py's network: 40 programs, 500
affiliates, `--report-clicks` clicks of hourly rollups with conversions and commissions), one tracking link and
`--clicks` stored clicks to convert; starts its own Redis (click queue, cache, Celery broker), granian for the
site and the API (2 workers x `--threads`), a granian of its own for /c/ (the tracking domain's servers:
`--tracking-workers`, 0 to serve /c/ from the same server), the continuous click ingester and a Celery worker
(commissions are computed there); then runs one wrk per kind of traffic for `--seconds`, all at once (closed
loop: each connection sends its next request when the answer comes):

  redirect   GET /c/<code>                                  expects 302 (each answered click id is kept)
  postback   POST /api/v1/conversions (unique order ids)    expects 201 (advertiser's API key)
  report     GET /api/v1/reports (day/program/affiliate/sub1 over 30 days, owner's API key)  expects 200
  dashboard  GET /operator/ and /operator/reports/ (a logged-in owner's session)  expects 200

and prints requests/s, p50/p99 and errors (unexpected statuses + socket errors) per kind. After the load, the
worker finishes the commissions and the ingester drains the queue; the verdict is OK only with 0 errors, every
answered click stored exactly once and a commission for every accepted conversion.

    .venv/bin/python bench/mixed.py [--seconds 60] [--report-clicks 1000000]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_mixed; dropped and created).
Needs redis-server and wrk.
"""

import argparse
import importlib.util
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _common import (
    PYTHON,
    ROOT,
    WRK_IDS_SCRIPT,
    PrivateRedis,
    bench_env,
    count_clicks,
    cpu_seconds,
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

# Requests of one kind: counts answers other than EXPECT (wrk's own count covers only >= 400).
STATUS_LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
function init(args)
  bad = 0; n = 0; expect = tonumber(os.getenv("EXPECT"))
  paths = {}
  for p in string.gmatch(os.getenv("PATHS") or "", "[^ ]+") do paths[#paths + 1] = p end
  clicks = {}
  if os.getenv("CLICKS_FILE") then
    for line in io.lines(os.getenv("CLICKS_FILE")) do clicks[#clicks + 1] = line end
  end
  run = os.getenv("RUN") or "run"
end
function request()
  n = n + 1
  if #clicks > 0 then
    local body = string.format('{"order_id":"%s-%d-%d","amount":"49.90","currency":"EUR","click_id":"%s"}',
                               run, tid, n, clicks[(tid * 7919 + n) % #clicks + 1])
    return wrk.format("POST", "/api/v1/conversions",
                      {["Authorization"] = os.getenv("AUTH"), ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", paths[n % #paths + 1])
end
function response(status, headers, body)
  if status ~= expect then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("unexpected %d\n", total))
end
"""


def load_bench_reports():
    # bench/reports.py by path: its module name would shadow the `reports` app.
    spec = importlib.util.spec_from_file_location("bench_reports", Path(__file__).with_name("reports.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed(report_clicks: int, clicks: int) -> dict:
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from network.models import Membership, Role
    from programs.models import Partnership, TrackingLink
    from tracking import partitions
    from tracking.ids import click_id_time, new_click_id
    from tracking.models import Click

    network, keys, program = load_bench_reports().seed(report_clicks, 5)
    partnership = Partnership.objects.filter(program=program).order_by("pk").first()
    link = TrackingLink.objects.create(network=network, partnership=partnership, program=program,
                                       affiliate=partnership.affiliate, sub1="mixed")
    partitions.ensure_ahead(7)  # what the beat does hourly: the clicks land in their day's partition
    start = timezone.now() - timedelta(hours=2)
    rows = []
    for n in range(clicks):
        click_id = new_click_id(int((start + timedelta(milliseconds=n)).timestamp() * 1000))
        rows.append(Click(network=network, click_id=click_id, program=program, partnership=partnership, link=link,
                          affiliate=partnership.affiliate, created_at=click_id_time(click_id), sub1="mixed"))
    Click.objects.bulk_create(rows, batch_size=5000)
    owner = Membership.objects.get(network=network, role=Role.OWNER)
    browser = Client()
    browser.force_login(owner.user)
    return {"network": network, "keys": keys, "link": link.code, "clicks": [row.click_id for row in rows],
            "session": f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--report-clicks", type=int, default=1_000_000, help="clicks of reporting history")
    parser.add_argument("--clicks", type=int, default=20_000, help="stored clicks the postbacks convert")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--threads", type=int, default=4, help="granian threads per worker (site and API)")
    parser.add_argument("--app", default="config.wsgi:application")
    parser.add_argument("--tracking-workers", type=int, default=1,
                        help="serve /c/ from a granian of its own with this many workers (a tracking domain's "
                             "servers); 0: one server for everything")
    parser.add_argument("--timeout", type=int, default=10, help="seconds before wrk counts a request as failed")
    parser.add_argument("--connections", default="16,8,4,2",
                        help="wrk connections for redirect,postback,report,dashboard")
    args = parser.parse_args()
    ensure_wrk()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_mixed")
    require_loopback(database_url)
    recreate_database(database_url)
    redis = PrivateRedis().start()
    env = bench_env(database_url, redis.url, CELERY_TASK_ALWAYS_EAGER="0", CONN_MAX_AGE="600")
    django_setup(env)
    manage(env, "collectstatic", "--noinput", "-v0")  # pages in production shape need the static manifest
    started = time.monotonic()
    world = seed(args.report_clicks, args.clicks)
    print(f"seeded in {time.monotonic() - started:.0f}s", flush=True)
    from django.db.models import Sum
    from django.utils import timezone

    from commissions.models import Commission
    from tracking.models import Click, ClickRollup, Conversion

    clicks_before = Click.objects.count()
    rollup_before = ClickRollup.objects.aggregate(s=Sum("clicks"))["s"] or 0
    d30 = (timezone.localdate() - timedelta(days=29)).isoformat()
    report_paths = " ".join(f"/api/v1/reports?group_by={group}&date_from={d30}"
                            for group in ("day", "program", "affiliate", "sub1"))
    run_id = secrets.token_hex(3)
    connections = dict(zip(("redirect", "postback", "report", "dashboard"),
                           map(int, args.connections.split(",")), strict=True))
    port = free_port()
    tracking_port = free_port() if args.tracking_workers else port
    base = f"http://127.0.0.1:{port}"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "ids.lua").write_text(WRK_IDS_SCRIPT)
        (tmp / "status.lua").write_text(STATUS_LUA)
        (tmp / "clicks.txt").write_text("\n".join(world["clicks"]) + "\n")
        ids_file = tmp / "answered.txt"
        redirect_url = f"http://127.0.0.1:{tracking_port}/c/{world['link']}?sub2=mixed"
        kinds = {
            "redirect": (["-s", str(tmp / "ids.lua"), "-H", "User-Agent: Mozilla/5.0 (X11; Linux x86_64) mixed",
                          redirect_url], {"WRK_IDS_FILE": str(ids_file)}),
            "postback": (["-s", str(tmp / "status.lua"), base],
                         {"EXPECT": "201", "CLICKS_FILE": str(tmp / "clicks.txt"), "RUN": run_id,
                          "AUTH": f"Bearer {world['keys']['advertiser']}"}),
            "report": (["-s", str(tmp / "status.lua"), "-H", f"Authorization: Bearer {world['keys']['owner']}", base],
                       {"EXPECT": "200", "PATHS": report_paths}),
            "dashboard": (["-s", str(tmp / "status.lua"), "-H", f"Cookie: {world['session']}", base],
                          {"EXPECT": "200", "PATHS": "/operator/ /operator/reports/"}),
        }
        with open(tmp / "processes.log", "w") as log:
            server = start_granian(env, port, workers=args.workers, threads=args.threads, app=args.app, log=log)
            tracking = (start_granian(env, tracking_port, workers=args.tracking_workers, log=log)
                        if args.tracking_workers else None)
            ingester = start_group([PYTHON, "manage.py", "ingest_clicks"], env, log)
            worker = start_group([PYTHON, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel",
                                  "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"], env, log)
            try:
                wait_for(port)
                wait_for(tracking_port)
                for _ in range(10 * args.workers):  # warm each worker: link cache, connections, templates
                    warm = (get_status(tracking_port, f"/c/{world['link']}", "HEAD"),
                            get_status(port, "/operator/", headers={"Cookie": world["session"]}),
                            get_status(port, report_paths.split()[0],
                                       headers={"Authorization": f"Bearer {world['keys']['owner']}"}))
                    if warm != (302, 200, 200):
                        raise SystemExit(f"warm-up answers {warm}, not (302, 200, 200)")
                print(f"{args.seconds}s of mixed load; wrk connections {connections}; granian {args.workers} workers"
                      f" x {args.threads} threads ({args.app})"
                      + (f", /c/ on its own granian ({args.tracking_workers} workers x 1 thread)"
                         if tracking else "") + ", Celery worker, ingester", flush=True)
                groups = [server.pid] + ([tracking.pid] if tracking else [])
                cpu_before = sum(cpu_seconds(pgid=pid) for pid in groups)
                processes = {
                    kind: subprocess.Popen(
                        ["wrk", "-t1", f"-c{connections[kind]}", f"-d{args.seconds}s", "--latency", "--timeout",
                         f"{args.timeout}s", *wrk_args],
                        env={**env, **wrk_env}, stdout=subprocess.PIPE, text=True, cwd=ROOT)
                    for kind, (wrk_args, wrk_env) in kinds.items()
                }
                outputs = {kind: process.communicate(timeout=args.seconds + 120)[0]
                           for kind, process in processes.items()}
                server_cpu = sum(cpu_seconds(pgid=pid) for pid in groups) - cpu_before
                time.sleep(1)  # the writer threads flush the last clicks
                settle_started = time.monotonic()
                conversions = Conversion.objects.filter(order_id__startswith=f"{run_id}-")
                while time.monotonic() - settle_started < 120:
                    without = conversions.exclude(pk__in=Commission.objects.values("conversion_id")).count()
                    if without == 0:
                        break
                    time.sleep(0.5)
                settle_seconds = time.monotonic() - settle_started
            finally:
                stop_group(server)
                if tracking:
                    stop_group(tracking)
                stop_group(ingester)
                stop_group(worker)
        drained = manage(env, "ingest_clicks", "--once").strip()
        answered, answered_distinct, lost, stored, stored_distinct, rollup = count_clicks(env, ids_file)
    accepted_rows = conversions.count()
    with_commission = conversions.filter(pk__in=Commission.objects.values("conversion_id")).count()
    redis.close()

    print("=== mixed load ===")
    print(f"{'kind':10} {'requests':>9} {'req/s':>9} {'p50':>9} {'p99':>9} {'errors':>7}  (status, socket)")
    total_errors = 0
    for kind, output in outputs.items():
        requests = int(next((ln.split()[0] for ln in output.splitlines() if "requests in" in ln), "0"))
        unexpected = next((ln.split()[1] for ln in output.splitlines()
                           if ln.startswith(("unexpected", "not_302"))), "?")
        status_errors = int(unexpected) if unexpected.isdigit() else 1
        socket_errors = wrk_socket_errors(output)
        total_errors += status_errors + socket_errors
        results[kind] = requests
        print(f"{kind:10} {requests:>9} {wrk_field(output, 'Requests/sec'):>9} {wrk_field(output, '50%'):>9} "
              f"{wrk_field(output, '99%'):>9} {status_errors + socket_errors:>7}  ({status_errors}, {socket_errors})")
    total = sum(results.values())
    print(f"all        {total:>9} {total / args.seconds:>9.0f}; server CPU {server_cpu:.0f}s of "
          f"{args.seconds * os.cpu_count()}s (load average {os.getloadavg()[0]:.1f})")
    new_clicks, new_rollup = stored - clicks_before, rollup - rollup_before
    print(f"clicks               answered {answered}, stored {new_clicks}, lost {lost}, "
          f"doubled {answered - answered_distinct + stored - stored_distinct}, rollup clicks {new_rollup} "
          f"(final drain: {drained})")
    print(f"conversions          201s {results['postback']}, rows {accepted_rows}, with commissions {with_commission}"
          f" (worker caught up {settle_seconds:.1f}s after the load)")
    # A request cut off when wrk stops may be done without wrk having read its answer: at most one per connection.
    ok = (total_errors == 0 and lost == 0 and answered == answered_distinct and stored == stored_distinct
          and new_rollup == new_clicks and 0 <= new_clicks - answered <= connections["redirect"]
          and 0 <= accepted_rows - results["postback"] <= connections["postback"] and with_commission == accepted_rows
          and all(results.values()))
    print("verdict              " + ("OK: 0 errors, every click stored once, every conversion has its commission"
                                     if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
