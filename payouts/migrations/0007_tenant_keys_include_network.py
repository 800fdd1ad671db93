"""On PostgreSQL, every tenant table's keys carry network_id, so Citus can distribute the schema by it.

Primary keys become (network_id, id) (the click table's (network_id, id, created_at)), unique constraints and unique
indexes get network_id first, and foreign keys between tenant tables become composite (network_id, x_id) ->
(network_id, id). Django keeps its `id` field. The rewrite reads the catalogue (core.citus), so it covers every
app's tables: this migration runs after the last migration of each. SQLite keeps Django's keys.
"""

from django.db import migrations


def rewrite(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from core.citus import rewrite_tenant_keys

    with schema_editor.connection.cursor() as cursor:
        rewrite_tenant_keys(cursor)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from core.citus import restore_single_keys

    with schema_editor.connection.cursor() as cursor:
        restore_single_keys(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ('payouts', '0006_unique_keys_carry_network'),
        ("commissions", "0007_unique_keys_carry_network"),
        ("tracking", "0020_unique_keys_carry_network"),
        ("programs", "0015_link_codes_unique_across_networks"),
        ("network", "0012_user_and_network_language"),
        ("reports", "0002_refill_click_conversions"),
    ]

    operations = [migrations.RunPython(rewrite, restore, elidable=False)]
