"""Fills LinkRollup from each network's stored clicks (tracking.link_rollups, today's code: the one definition of
these sums). Its own migration: on PostgreSQL the rows' deferred key checks must not be pending while 0023's
deferred index and key statements alter the table."""

from django.db import migrations


def fill(apps, schema_editor):
    from network.models import Network
    from tracking.link_rollups import link_rollups_rebuild

    for network_id in Network.objects.order_by("pk").values_list("pk", flat=True):
        link_rollups_rebuild(network_id)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0023_link_rollup")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
