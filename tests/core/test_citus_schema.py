"""The schema distributes by network: every tenant table's keys carry network_id (read from the catalogue on plain
PostgreSQL, so CI catches a key that Citus would refuse before anyone runs Citus)."""

import pytest
from django.conf import settings
from django.db import connection

from core.citus import KEY_EXCEPTIONS, REFERENCE_WITH_NETWORK, key_violations, reference_tables, tenant_tables

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_every_tenant_key_and_foreign_key_carries_network_id():
    with connection.cursor() as cursor:
        assert key_violations(cursor) == []


def test_the_tenant_tables_are_the_ones_the_models_say():
    from django.apps import apps

    modelled = {m._meta.db_table for m in apps.get_models() if any(f.column == "network_id" for f in m._meta.fields)}
    with connection.cursor() as cursor:
        tenant = set(tenant_tables(cursor))
        reference = set(reference_tables(cursor))
    assert modelled - set(REFERENCE_WITH_NETWORK) == tenant
    assert {"network_network", "network_user", "network_membership", "network_apikey"} <= reference
    assert {"tracking_click", "tracking_conversion", "commissions_ledgerentry", "payouts_payout"} <= tenant
    assert not KEY_EXCEPTIONS.keys() & tenant


@pytest.mark.skipif(bool(settings.CITUS_URL), reason="on Citus the database itself refuses such keys")
def test_the_check_sees_a_key_without_network_id():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE programs_creative ADD CONSTRAINT creative_name_probe UNIQUE (name)")
        cursor.execute("CREATE TABLE citus_probe (id bigint PRIMARY KEY, creative_id bigint, network_id bigint)")
        cursor.execute("CREATE TABLE citus_ref_probe (id bigint PRIMARY KEY, net bigint, creative_id bigint, "
                       "FOREIGN KEY (net, creative_id) REFERENCES programs_creative (network_id, id))")
        problems = key_violations(cursor)
    assert any("programs_creative: unique constraint creative_name_probe (name)" in p for p in problems)
    assert any(p.startswith("citus_probe: primary key") for p in problems)
    assert any(p.startswith("citus_ref_probe: foreign key") and "reference table" in p for p in problems)
