"""The two-network world every test can use, and helpers for the real-services run."""

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
