"""Fills the day tables of existing networks from their sources (the rebuild the settings page runs after a time
zone change). It runs today's code, not historical models: the rebuild is the one definition of these sums."""

from django.db import migrations


def fill(apps, schema_editor):
    from network.models import Network
    from reports.rebuild import days_rebuild

    for network_id in Network.objects.order_by("pk").values_list("pk", flat=True):
        days_rebuild(network_id)


class Migration(migrations.Migration):
    # After every table the rebuild writes (the day tables, their changes and per-partnership twins) exists.
    dependencies = [
        ("commissions", "0006_commissionpartnerday"),
        ("tracking", "0015_clickpartnerday_conversionpartnerday"),
        ("network", "0004_dayrebuild"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
