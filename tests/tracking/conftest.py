"""Fixtures of the conversion tests: which postback path answered (the full DRF view or the fast path)."""

import pytest

from tracking.api import ConversionViewSet


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
