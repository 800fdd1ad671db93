"""Logged-in browser-like clients for the web pages of the two-network world."""

import pytest
from django.test import Client

from network.auth import SESSION_NETWORK_KEY
from network.models import Membership


def web_client(member, *, enforce_csrf_checks: bool = False) -> Client:
    """A Client logged in as a membership (or a party's membership), acting in its network."""
    membership = member if isinstance(member, Membership) else member.membership
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_NETWORK_KEY] = membership.network_id
    session.save()
    return client


@pytest.fixture
def web(world):
    """`web("a", "owner")` -> a logged-in Client for that member of network a."""
    cache = {}

    def get(tenant: str, role: str) -> Client:
        if (tenant, role) not in cache:
            cache[tenant, role] = web_client(getattr(getattr(world, tenant), role))
        return cache[tenant, role]

    return get
