#!/usr/bin/env python3
"""Benchmark of the click redirect in its production shape, then of click ingestion.

Starts granian (DEBUG=0, PostgreSQL, Redis, the minimal /c/ handler) against a fresh bench database with one
seeded link, drives GET /c/<code> with wrk (64 connections, fixed duration, loopback only), drains the
queue with `manage.py ingest_clicks --once`, and prints requests/s, p50, p99, 302s answered, clicks stored
(every click id wrk was answered with must be in the database exactly once) and ingestion rows/s.

    .venv/bin/python bench/redirect.py [--duration 20] [--connections 64] [--workers 2]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_clicks; the database is
dropped and created), BENCH_REDIS_URL (default redis://127.0.0.1:6379/4; flushed). Needs `createdb`,
`dropdb` and wrk (installed with apt-get when missing).
"""

import argparse
import http.client
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    # Ask the kernel (granian binds with SO_REUSEPORT: a fixed port could be shared with another server).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = free_port()

# wrk keeps each answered click id (from the Location header) so the check is exact: a click cut off in
# flight when wrk stops may be stored without wrk having read its answer, so "stored" may exceed "answered".
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ids = {}; n = 0; other = 0 end
function response(status, headers, body)
  -- Keep the header as it is (no parsing here: wrk shares the CPU with the server).
  local loc = status == 302 and headers["location"]
  if loc then n = n + 1; ids[n] = loc else other = other + 1 end
end
function done(summary, latency, requests)
  local out = io.open(os.getenv("WRK_IDS_FILE"), "w")
  local bad = 0
  for _, thread in ipairs(threads) do
    local t = thread:get("ids")
    for i = 1, thread:get("n") do
      local id = string.match(t[i], "click_id=(%w+)")
      if id then out:write(id, "\n") else bad = bad + 1 end
    end
    bad = bad + thread:get("other")
  end
  out:close()
  io.write(string.format("not_302 %d\n", bad))
end
"""


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)


def bench_env(database_url, redis_url):
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CLICK_QUEUE_URL=redis_url,
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    return env


SEED = """
from network import services
from network.models import Network
from programs.models import Partnership, Program, TrackingLink
network = Network.objects.create(name="Bench", slug="bench", default_currency="EUR")
advertiser, _ = services.advertiser_create(network=network, name="Bench Shop", email="shop@bench.test")
affiliate, _ = services.affiliate_create(network=network, name="Bench Blog", email="blog@bench.test")
affiliate.status = "active"
affiliate.save()
program = Program.objects.create(network=network, advertiser=advertiser, name="Bench", currency="EUR",
                                 landing_url="https://shop.example.com/landing?ref=bench")
partnership = Partnership.objects.create(network=network, program=program, affiliate=affiliate, status="approved")
link = TrackingLink.objects.create(network=network, partnership=partnership, program=program,
                                   affiliate=affiliate, sub1="bench")
print(link.code)
"""

COUNT = """
from django.db import connection
from tracking.models import Click, ClickRollup
from django.db.models import Sum
with connection.cursor() as c:
    c.execute("CREATE TEMP TABLE answered (click_id varchar(26))")
    with open({path!r}) as f:
        c.cursor.copy_expert("COPY answered FROM STDIN", f)
    c.execute("SELECT COUNT(*), COUNT(DISTINCT click_id) FROM answered")
    answered, answered_distinct = c.fetchone()
    c.execute("SELECT COUNT(*) FROM answered a "
              "WHERE NOT EXISTS (SELECT 1 FROM tracking_click t WHERE t.click_id = a.click_id)")
    lost = c.fetchone()[0]
    c.execute("SELECT COUNT(*), COUNT(DISTINCT click_id) FROM tracking_click")
    stored, stored_distinct = c.fetchone()
rollup = ClickRollup.objects.aggregate(s=Sum("clicks"))["s"] or 0
print(answered, answered_distinct, lost, stored, stored_distinct, rollup)
"""


def cpu_seconds(pgid=None, pid=None) -> float:
    """user+system CPU of a process group (all granian processes) or of one process, from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if (pid is not None and stat.parent.name == str(pid)) or (pgid is not None and int(fields[2]) == pgid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def get_status(path, method="GET"):
    """One request on loopback, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    try:
        conn.request(method, path)
        return conn.getresponse().status
    finally:
        conn.close()


def wait_for(path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return get_status(path)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer {path}")


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
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_clicks")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    db = urlsplit(database_url)
    if db.hostname not in ("127.0.0.1", "localhost", "::1") or urlsplit(redis_url).hostname not in (
        "127.0.0.1", "localhost", "::1"
    ):
        raise SystemExit("the benchmark runs on loopback only")
    ensure_wrk()
    env = bench_env(database_url, redis_url)
    env["CLICK_QUEUE_BUFFERED"] = "0" if args.sync_queue else "1"
    pg = ["-h", db.hostname, "-p", str(db.port or 5432), "-U", db.username or "postgres"]
    name = db.path.lstrip("/")
    subprocess.run(["dropdb", *pg, "--if-exists", name], check=True)
    subprocess.run(["createdb", *pg, name], check=True)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)
    code = run([PYTHON, "manage.py", "shell", "-c", SEED], env, capture_output=True).stdout.strip().splitlines()[-1]

    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT),
         "--workers", str(args.workers), "--blocking-threads", str(args.blocking_threads), "--backpressure", "128",
         "--log-level", "warning", "config.wsgi:application"],
        env=env, cwd=ROOT, start_new_session=True,
    )
    path = f"/c/{code}?sub2=wrk"
    url = f"http://127.0.0.1:{PORT}{path}"
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = Path(tmp) / "answered.txt"
        script = Path(tmp) / "ids.lua"
        script.write_text(WRK_SCRIPT)
        try:
            wait_for("/healthz")
            # Warm every worker's cache (the warm path is what is measured); HEAD records no click.
            for _ in range(20 * args.workers):
                status = get_status(path, "HEAD")
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
        counts = run([PYTHON, "manage.py", "shell", "-c", COUNT.format(path=str(ids_file))], env,
                     capture_output=True).stdout.split()
    answered, answered_distinct, lost, stored, stored_distinct, rollup = map(int, counts[-6:])
    if args.count_only:
        answered = answered_distinct = total - other
        lost = max(0, answered - stored)  # a lower bound: a click lost and one cut off in flight would cancel out

    def field(prefix):
        line = next((ln for ln in wrk.splitlines() if ln.strip().startswith(prefix)), "")
        return line.split()[1] if line else "?"

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
