"""Fixtures of the tracking tests: which postback path answered (the full DRF view or the fast path), a local
receiver of outbound calls, and host names that resolve to a public address."""

import ipaddress
import socket

import pytest

from tracking.api import ConversionViewSet

from .conversions_support import Receiver

PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def full_view_forbidden(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the full view was used")

    monkeypatch.setattr(ConversionViewSet, "create", fail)


@pytest.fixture
def full_view_calls(monkeypatch):
    calls = []
    original = ConversionViewSet.create

    def spy(self, request, *args, **kwargs):
        calls.append(request.data.get("order_id"))
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(ConversionViewSet, "create", spy)
    return calls


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def public_dns(monkeypatch):
    """Every host name resolves to one public address (or to what the test sets in `answers`)."""
    answers = {"default": PUBLIC_IP}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        try:
            address = str(ipaddress.ip_address(host))  # a literal resolves to itself
        except ValueError:
            address = answers.get(host, answers["default"])
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return answers
