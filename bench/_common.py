"""Helpers shared by the bench/ scripts: ports, a fresh database, the production-shape environment, granian,
a private Redis, wrk and its click-id script, CPU accounting and the "every answered click stored once" check."""

import atexit
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def free_port() -> int:
    # Ask the kernel (granian binds with SO_REUSEPORT: a fixed port could be shared with another server).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_loopback(*urls: str) -> None:
    if any(urlsplit(url).hostname not in LOOPBACK for url in urls):
        raise SystemExit("the benchmarks run on loopback only")


def recreate_database(url: str) -> None:
    """Drop (closing its sessions) and create the database of a postgres:// URL."""
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _connect(url: str, dbname: str | None = None, host: str | None = None, port: int | None = None):
    import psycopg2

    parts = urlsplit(url)
    conn = psycopg2.connect(host=host or parts.hostname, port=port or parts.port or 5432,
                            user=parts.username or "postgres", password=parts.password,
                            dbname=dbname or parts.path.lstrip("/"))
    conn.autocommit = True
    return conn


def recreate_citus_database(url: str) -> None:
    """recreate_database on a Citus coordinator (the URL's host) and on each of its workers (those registered in
    the coordinator's `postgres` database), then the new database joins them (core.citus.join_cluster). Migrate,
    then call distribute_database."""
    sys.path.insert(0, str(ROOT))
    from core.citus import cluster_workers, join_cluster

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with contextlib.closing(_connect(url, "postgres")) as admin, admin.cursor() as cursor:
        workers = cluster_workers(cursor)
    if not workers:
        raise SystemExit("the coordinator's postgres database has no workers (citus_add_node)")
    require_loopback(*(f"postgres://{host}:{port}" for host, port in workers))
    for host, port in workers:
        with contextlib.closing(_connect(url, "postgres", host, port)) as admin, admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        with contextlib.closing(_connect(url, name, host, port)) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS citus")
    recreate_database(url)
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        join_cluster(cursor, (parts.hostname, parts.port or 5432), workers)


def distribute_database(url: str, shards: int) -> None:
    """After migrating a database made by recreate_citus_database: reference and distributed tables
    (core.citus.distribute), `shards` shards each."""
    sys.path.insert(0, str(ROOT))
    from core.citus import distribute

    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        reference, tenant = distribute(cursor, shard_count=shards)
    print(f"Citus: {len(tenant)} tables distributed by network_id in {shards} shards, {len(reference)} reference "
          "tables", flush=True)


def bench_env(database_url: str, redis_url: str, **extra: str) -> dict:
    """The environment of a production-shape process (DEBUG off) against this database and Redis."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CLICK_QUEUE_URL=redis_url,
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    env.update(extra)
    return env


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


def manage(env, *args: str) -> str:
    """`manage.py <args>`; its standard output (its errors shown when it fails)."""
    try:
        return run([PYTHON, "manage.py", *args], env, capture_output=True).stdout
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr[-4000:])
        raise


def django_setup(env: dict) -> None:
    """This process as one of the app's, migrated (seeds and checks run in the bench script itself)."""
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)


def start_granian(env, port: int, *, workers: int = 2, threads: int = 1, app: str = "config.wsgi:application",
                  log=None) -> subprocess.Popen:
    """granian (WSGI) in its own process group, so stop_group() ends every worker."""
    return subprocess.Popen(
        [str(Path(PYTHON).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--blocking-threads", str(threads), "--backpressure", "128", "--no-ws",
         "--log-level", "warning", app],
        env=env, cwd=ROOT, start_new_session=True, stderr=log,
    )


def start_group(cmd, env, log=None) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)


def stop_group(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 30) -> None:
    """Signal a process started with start_new_session and its children; wait for the leader."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def get_status(port: int, path: str, method: str = "GET", headers: dict | None = None) -> int:
    """One request on loopback, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        return conn.getresponse().status
    finally:
        conn.close()


def wait_for(port: int, path: str = "/healthz", timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return get_status(port, path)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer {path}")


def cpu_seconds(pgid=None, pid=None, title=None) -> float:
    """user+system CPU of a process group (all granian processes), of one process, or of the processes whose
    title contains `title` (": postgres <db> ": PostgreSQL's backends serving one database), from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if (pid is not None and stat.parent.name == str(pid)) or (pgid is not None and int(fields[2]) == pgid) or (
                title is not None and title in _title(stat.parent)):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _title(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values))) - 1))]


class PrivateRedis:
    """A redis-server of our own on a free loopback port (a fault drill may stop it; never the shared one), with
    an append-only file in a temporary directory. `fsync="always"`: even a killed server keeps every write it
    acknowledged; "everysec" (Redis' default, docker-compose.yml's) may lose the last second."""

    def __init__(self, fsync: str = "everysec"):
        self.fsync = fsync
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.process = None
        atexit.register(self.close)  # also when a drill fails half-way

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir, "--save", "",
             "--appendonly", "yes", "--appendfsync", self.fsync, "--loglevel", "warning", "--logfile", "redis.log"],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, sig=signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def close(self) -> None:
        self.stop(signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)


# One network, one advertiser, one active affiliate and its link; prints the link code.
SEED_LINK = """
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

# wrk keeps each answered click id (from the Location header) so the check is exact: a click cut off in
# flight when wrk stops may be stored without wrk having read its answer, so "stored" may exceed "answered".
WRK_IDS_SCRIPT = r"""
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

# Prints: answered, distinct answered, answered but missing, stored, distinct stored, rollup clicks.
COUNT_CLICKS = """
from django.db import connection
from tracking.models import Click, ClickRollup
from django.db.models import Sum
with connection.cursor() as c:
    c.execute("CREATE TEMP TABLE answered (click_id varchar(26))")
    with open({path!r}) as f:
        c.cursor.copy_expert("COPY answered FROM STDIN", f)
    c.execute("SELECT COUNT(*), COUNT(DISTINCT click_id) FROM answered")
    answered, answered_distinct = c.fetchone()
    # The stored ids as a CTE: Citus runs it on the shards first, then joins the result to the temporary table
    # (a correlated subquery from a local table into a distributed one it refuses); PostgreSQL inlines it.
    c.execute("WITH stored AS (SELECT DISTINCT click_id FROM tracking_click) SELECT COUNT(*) FROM answered a "
              "WHERE NOT EXISTS (SELECT 1 FROM stored t WHERE t.click_id = a.click_id)")
    lost = c.fetchone()[0]
    c.execute("SELECT COUNT(*), COUNT(DISTINCT click_id) FROM tracking_click")
    stored, stored_distinct = c.fetchone()
rollup = ClickRollup.objects.aggregate(s=Sum("clicks"))["s"] or 0
print(answered, answered_distinct, lost, stored, stored_distinct, rollup)
"""


def count_clicks(env, ids_file) -> tuple[int, ...]:
    out = manage(env, "shell", "-c", COUNT_CLICKS.format(path=str(ids_file))).split()
    return tuple(map(int, out[-6:]))


def wrk_field(output: str, prefix: str) -> str:
    line = next((ln for ln in output.splitlines() if ln.strip().startswith(prefix)), "")
    return line.split()[1] if line else "?"


def wrk_socket_errors(output: str) -> int:
    """The sum of wrk's "Socket errors: connect a, read b, write c, timeout d" (absent: none)."""
    line = next((ln for ln in output.splitlines() if ln.strip().startswith("Socket errors:")), "")
    return sum(int(part.split()[-1]) for part in line.split(":", 1)[1].split(",")) if line else 0


# --- a keep-alive HTTP/1.1 load client (asyncio, one coroutine per connection) -----------------------------
def new_stats() -> dict:
    return {"latencies": [], "codes": {}, "errors": 0}


async def _read_response(reader) -> int:
    status_line = await reader.readline()
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return int(status_line.split()[1])


async def http_client(port: int, build, deadline: float, stats: dict) -> None:
    """Send `build(n)` (the raw request bytes of request number n) until `deadline` (perf_counter), one at a
    time on one keep-alive connection; record each latency and status code in `stats`."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        request = build(n)
        started = time.perf_counter()
        try:
            writer.write(request)
            status = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            stats["errors"] += 1
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        stats["latencies"].append(time.perf_counter() - started)
        stats["codes"][status] = stats["codes"].get(status, 0) + 1
    writer.close()


def http_request(method: str, path: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def seed_program_clicks(count: int, *, ago_seconds: float, step_ms: int) -> tuple:
    """Migrate, then seed the benches' network: an advertiser, a program paying 10 % (fraud policy `hold`), an
    affiliate's approved partnership and link, and `count` clicks on it from `ago_seconds` ago, `step_ms` apart.
    Call after django.setup(). Returns (network, advertiser, the advertiser's issued key, the click ids)."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from network import services
    from programs.models import CommissionRule, Partnership, Program, TrackingLink
    from tracking.ids import click_id_time, new_click_id
    from tracking.models import Click

    network, _ = services.network_create(name="Bench", slug="bench", currency="EUR", owner_email="owner@bench.test")
    advertiser, issued = services.advertiser_create(network=network, name="Shop", email="shop@bench.test")
    affiliate, _ = services.affiliate_create(network=network, name="Blog", email="blog@bench.test")
    program = Program.objects.create(network=network, advertiser=advertiser, name="Bench", currency="EUR",
                                     landing_url="https://shop.bench.test/", fraud_policy="hold")
    CommissionRule.objects.create(network=network, program=program, kind="percent", payout="10")
    partnership = Partnership.objects.create(network=network, program=program, affiliate=affiliate,
                                             status="approved")
    link = TrackingLink.objects.create(network=network, partnership=partnership, program=program,
                                       affiliate=affiliate)
    start = timezone.now() - timedelta(seconds=ago_seconds)
    clicks = []
    for n in range(count):
        click_id = new_click_id(int((start + timedelta(milliseconds=n * step_ms)).timestamp() * 1000))
        clicks.append(Click(network=network, click_id=click_id, program=program, partnership=partnership, link=link,
                            affiliate=affiliate, created_at=click_id_time(click_id), sub1="bench"))
    Click.objects.bulk_create(clicks, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics as autovacuum keeps them on a running database
    return network, advertiser, issued, [click.click_id for click in clicks]


def conversions_without_commission() -> int:
    """How many conversions have no first-tier commission yet, by two counts (the benches attribute every
    conversion, each gets one): the polls' cheap form of `Conversion.objects.filter(commissions__isnull=True)`,
    whose anti-join, planned without statistics (the bench's tables are analysed empty), walked the network's
    commissions once per conversion and took a PostgreSQL core away from the worker it waits for."""
    from commissions.models import Commission
    from tracking.models import Conversion

    written = Commission.objects.filter(tier=1, conversion_id__isnull=False).exclude(kind="adjustment").count()
    return Conversion.objects.count() - written


class AutoAnalyze(threading.Thread):
    """Autovacuum's ANALYZE for a server where autovacuum is off (this machine's): every `every` seconds, each table
    of the database changed by more than autovacuum's threshold since its last ANALYZE (50 rows + 10 %) is analysed,
    as on a running production database. Without it the benches' tables keep the statistics of their empty seed,
    and PostgreSQL plans every read of a network as if the network held a handful of rows."""

    def __init__(self, url: str, every: float = 10.0):
        super().__init__(name="autoanalyze", daemon=True)
        self.url, self.every, self.stopped, self.runs = url, every, threading.Event(), 0

    def run(self) -> None:
        import psycopg2

        parts = urlsplit(self.url)
        conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                                password=parts.password, dbname=parts.path.lstrip("/"))
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_setting('autovacuum')::bool")
            if cursor.fetchone()[0]:
                return  # the server's own autovacuum analyses
            while not self.stopped.wait(self.every):
                cursor.execute(
                    "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables WHERE n_mod_since_analyze >"
                    " current_setting('autovacuum_analyze_threshold')::int"
                    " + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(n_live_tup, 0)")
                for (table,) in cursor.fetchall():
                    cursor.execute(f"ANALYZE {table}")
                    self.runs += 1
        conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=60)
