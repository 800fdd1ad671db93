"""The optional read replica: report reads go to it, authentication and writes never do; off by default."""

import os
import subprocess
import sys

import pytest

from core import replica
from tests.reports.test_api import DAY, RANGE, URL, by_key

pytestmark = pytest.mark.django_db
ROUTED: list[tuple[str, str | None]] = []


class RecordingRouter(replica.ReplicaRouter):
    def db_for_read(self, model, **hints):
        alias = super().db_for_read(model, **hints)
        ROUTED.append((model._meta.label, alias))
        return alias


@pytest.fixture
def recording(settings, monkeypatch):
    # The test database stands in for the replica (in production a streaming copy of the same rows).
    monkeypatch.setattr(replica, "REPLICA", "default")
    settings.DATABASE_ROUTERS = [f"{__name__}.RecordingRouter"]
    ROUTED.clear()
    return ROUTED


def test_report_reads_go_to_the_replica_and_the_key_lookup_to_the_primary(world, seeded, recording):
    response = world.a.client("owner").get(URL, {**RANGE, "group_by": "day"})
    assert response.status_code == 200, response.content
    assert by_key(response.json()) == DAY
    routed = dict(recording)
    for label in ("tracking.ClickPartnerDay", "tracking.ConversionPartnerDay", "commissions.CommissionPartnerDay"):
        assert routed[label] == "default", (label, recording)  # the replica's alias in this test
    assert {alias for label, alias in recording if label == "network.ApiKey"} == {None}


def test_the_report_page_reads_the_replica_too(world, seeded, recording):
    from django.test import Client

    browser = Client()
    browser.force_login(world.a.owner.user)
    response = browser.get("/operator/reports/", RANGE)
    assert response.status_code == 200
    assert ("tracking.ClickPartnerDay", "default") in recording
    assert ("network.Membership", None) in recording  # who is asking: the primary


def test_without_a_replica_everything_reads_and_writes_the_primary():
    router = replica.ReplicaRouter()
    from tracking.models import ClickRollup

    with replica.replica_reads():
        assert router.db_for_read(ClickRollup) is None  # no `replica` database configured
        assert router.db_for_write(ClickRollup) == "default"
    assert router.allow_migrate("replica", "tracking") is False and router.allow_migrate("default", "tracking")


def _settings_with(**env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL"}}
    code = ("import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';django.setup();"
            "from django.conf import settings as s;"
            "print(sorted(s.DATABASES), s.DATABASE_ROUTERS,"
            " s.DATABASES.get('replica', {}).get('TEST', {}).get('MIRROR'))")
    result = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_replica_is_configured_only_by_its_url():
    assert _settings_with() == "['default'] [] None"
    configured = _settings_with(DATABASE_URL="postgres://app@db1:5432/affiliate",
                                DATABASE_REPLICA_URL="postgres://app@db2:5432/affiliate")
    assert configured == "['default', 'replica'] ['core.replica.ReplicaRouter'] default"
