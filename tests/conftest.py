"""The two-network world every test can use, and helpers for the real-services run."""

import os
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import NetworkFactory, make_advertiser, make_affiliate, make_owner
from tests.pages import web_client


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)")
    skip_redis = pytest.mark.skip(reason="needs Redis (REDIS_URL)")
    for item in items:
        if "postgres" in item.keywords and not settings.IS_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, django_db_keepdb, django_db_createdb):
    """With CITUS_URL, unless the run reuses it: a test database left by an earlier run is dropped by force on the
    coordinator and the workers before pytest-django creates it (Citus's maintenance daemon holds a session to it,
    so Django's own DROP DATABASE fails with "being accessed by other users")."""
    if settings.CITUS_URL and (django_db_createdb or not django_db_keepdb):
        from django.db import connection

        name = connection.creation._get_test_db_name()
        source = environ_db(settings.CITUS_URL)
        home = (source["HOST"], int(source["PORT"] or 5432))
        workers = _run_on(*home, source["NAME"],
                          "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary'")
        for host, port in [home, *workers]:
            _drop_database(host, port, name)


def environ_db(url: str) -> dict:
    import environ

    return environ.Env.db_url_config(url)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb):
    """With CITUS_URL: after the test database is created and migrated on the coordinator, the same database on
    every worker of the coordinator's own database, then the tables distributed by network_id (core.citus). With
    --reuse-db a database distributed by an earlier run is used as it is and kept (migrating and distributing take
    about two minutes)."""
    if not settings.CITUS_URL:
        _install_sql_guard(django_db_blocker)
        yield
        return
    with django_db_blocker.unblock():
        nodes = _distribute_test_database()
    _install_citus_flush()
    _install_sql_guard(django_db_blocker)
    yield
    if django_db_keepdb:
        return
    # Citus's maintenance daemon holds a connection to the test database: the run drops it by force, everywhere.
    from django.db import connections

    name = connections["default"].settings_dict["NAME"]
    connections.close_all()
    for host, port in nodes:
        _drop_database(host, port, name)


def _drop_database(host, port, name, tries=10):
    """DROP DATABASE ... WITH (FORCE), again while a session still holds it: FORCE ends the client sessions, but a
    live server's thread or Citus's maintenance daemon may still be letting go (seen after the browser tests)."""
    import time

    import psycopg2

    for attempt in range(tries):
        try:
            _run_on(host, port, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg2.errors.ObjectInUse:
            if attempt == tries - 1:
                raise
            time.sleep(1)


def _install_citus_flush():
    """The transactional tests' flush, on Citus: DELETE from the tables that have rows instead of Django's TRUNCATE of
    every table. TRUNCATE rewrites (and syncs to disk) every shard of every table, 8 shards times ~70 tables on each
    worker: 20 to 45 s a test on a loaded machine. The rows are gone all the same (every foreign key is deferrable,
    checked at commit); sequences are not reset, as Django's flush after a transactional test does not reset them.
    `sequential`: a reference table may be written after a multi-shard statement in the same transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    if getattr(DatabaseOperations.sql_flush, "_citus", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences:
            return truncate(self, style, tables, reset_sequences=True, allow_cascade=allow_cascade)
        with self.connection.cursor() as cursor:
            filled = []
            for table in tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {self.quote_name(table)})")
                if cursor.fetchone()[0]:
                    filled.append(table)
        if not filled:
            return []
        return ["SET LOCAL citus.multi_shard_modify_mode TO 'sequential'",
                *(f"DELETE FROM {self.quote_name(table)}" for table in filled)]

    truncate = DatabaseOperations.sql_flush
    sql_flush._citus = True
    DatabaseOperations.sql_flush = sql_flush


def _install_sql_guard(django_db_blocker):
    """The routing guard (tests/sqlguard.py), on PostgreSQL only: SQLite is never distributed. SQLGUARD=off turns it
    off (to measure what it costs)."""
    if not _sql_guard_on():
        return
    from django.db import connection

    from core.citus import tenant_tables
    from tests import sqlguard

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        sqlguard.install(tenant_tables(cursor))


def _sql_guard_on() -> bool:
    return settings.IS_POSTGRES and os.environ.get("SQLGUARD", "on") != "off"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A covered test's body (not its fixtures) runs under the routing guard; it fails on what the guard found."""
    from tests import sqlguard

    guarded = _sql_guard_on() and sqlguard.is_covered(item.nodeid) and "sql_unrouted" not in item.keywords
    if guarded:
        sqlguard.start()
    try:
        result = yield
    finally:
        found = sqlguard.stop() if guarded else []
    if found and os.environ.get("SQLGUARD_LOG"):  # a survey: every finding, one per line
        with open(os.environ["SQLGUARD_LOG"], "a") as log:
            log.writelines(f"{item.nodeid}\t{v.kind}\t{','.join(v.tables)}\t{v.where}\t{v.detail}\n" for v in found)
    if found:
        raise AssertionError(f"{len(found)} statement(s) not routed by network (tests/sqlguard.py):\n"
                             + "\n".join(str(v) for v in found[:20]))
    return result


def _run_on(host, port, dbname, *statements):
    import environ
    import psycopg2

    source = environ.Env.db_url_config(settings.CITUS_URL)
    conn = psycopg2.connect(dbname=dbname, user=source["USER"], password=source["PASSWORD"], host=host, port=port)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            return cursor.fetchall() if cursor.description else None
    finally:
        conn.close()


def _distribute_test_database():
    import os

    import environ
    from django.db import connection

    from core.citus import distribute, join_cluster

    source = environ.Env.db_url_config(settings.CITUS_URL)
    home = (source["HOST"], int(source["PORT"] or 5432))
    workers = _run_on(*home, source["NAME"],
                      "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary'")
    assert workers, "CITUS_URL's database has no workers (citus_add_node)"
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        if _distributed_already(cursor):
            return [*workers, home]
    with _cluster_lock(home, source):
        for host, port in workers:
            _run_on(host, port, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}"')
            _run_on(host, port, name, "CREATE EXTENSION IF NOT EXISTS citus")
        with connection.cursor() as cursor:
            join_cluster(cursor, home, workers)
            distribute(cursor, shard_count=int(os.environ.get("CITUS_SHARDS", "8")))
    return [*workers, home]


@contextmanager
def _cluster_lock(home, source):
    """One xdist worker at a time joins its database to the cluster: two at once made the workers' role
    propagation fail ("tuple concurrently updated") and every test of one of them error."""
    import psycopg2

    conn = psycopg2.connect(dbname=source["NAME"], user=source["USER"], password=source["PASSWORD"], host=home[0],
                            port=home[1])
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_CLUSTER_LOCK])
        yield
    finally:
        conn.close()  # the session's lock goes with it


_CLUSTER_LOCK = 0x617666  # any constant of this suite's own


def _distributed_already(cursor) -> bool:
    """Whether a reused test database (--reuse-db) was distributed by an earlier run; a table a newer migration
    added since is not distributed, and the run says to start afresh."""
    from core.citus import reference_tables, tenant_tables

    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
    if cursor.fetchone() is None:
        return False
    cursor.execute("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
    done = {row[0] for row in cursor.fetchall()}
    if not done:
        return False
    missing = sorted((set(reference_tables(cursor)) | set(tenant_tables(cursor))) - done)
    if missing:
        raise pytest.UsageError(f"the reused Citus test database lacks {', '.join(missing)}: run with --create-db")
    return True


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a page requested as a Latvian member activates Latvian in the
    test's thread (as every request does), and a later test in the same process read a service's refusal in it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _isolated_cache_and_eager_tasks(settings):
    from django.core.cache import cache

    from config.celery import app
    from network import hosts
    from tracking.postback_fast import forget_keys

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    cache.clear()
    forget_keys()  # the postback's per-process key rows: rolled-back tests leave no trace in the database
    hosts.clear_local_cache()  # likewise the tracking domains (ids are reused after a rollback)
    yield
    cache.clear()
    forget_keys()
    hosts.clear_local_cache()


def api_client(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@dataclass
class Tenant:
    """One network with an owner, a staff member, an advertiser and two affiliates, each with a key."""

    network: object
    owner: object
    owner_key: str
    staff: object
    staff_key: str
    advertiser: object
    advertiser_key: str
    affiliate: object
    affiliate_key: str
    affiliate2: object
    affiliate2_key: str
    clients: dict = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        if role not in self.clients:
            self.clients[role] = api_client(getattr(self, f"{role}_key"))
        return self.clients[role]


def make_tenant(slug: str, currency: str = "EUR") -> Tenant:
    network = NetworkFactory(slug=slug, name=f"{slug.title()} Network", default_currency=currency)
    owner, owner_key = make_owner(network, f"owner@{slug}.test")
    staff, staff_key = make_owner(network, f"staff@{slug}.test", role="staff")
    advertiser, advertiser_issued = make_advertiser(network, f"{slug.title()} Shop", f"shop@{slug}.test")
    affiliate, affiliate_issued = make_affiliate(network, f"{slug.title()} Blog", f"blog@{slug}.test")
    affiliate2, affiliate2_issued = make_affiliate(network, f"{slug.title()} Deals", f"deals@{slug}.test")
    return Tenant(
        network=network,
        owner=owner,
        owner_key=owner_key,
        staff=staff,
        staff_key=staff_key,
        advertiser=advertiser,
        advertiser_key=advertiser_issued.raw,
        affiliate=affiliate,
        affiliate_key=affiliate_issued.raw,
        affiliate2=affiliate2,
        affiliate2_key=affiliate2_issued.raw,
    )


@dataclass
class World:
    a: Tenant
    b: Tenant


@pytest.fixture
def world(db) -> World:
    """Alice's network `a` and Bob's network `b`: every test can check b's objects answer 404 to a."""
    return World(a=make_tenant("alpha"), b=make_tenant("bravo"))


@pytest.fixture
def anon() -> APIClient:
    return api_client()


@pytest.fixture
def web(world):
    """`web("a", "owner")` -> a logged-in Client for that member of network a."""
    cache = {}

    def get(tenant: str, role: str) -> Client:
        if (tenant, role) not in cache:
            cache[tenant, role] = web_client(getattr(getattr(world, tenant), role))
        return cache[tenant, role]

    return get
