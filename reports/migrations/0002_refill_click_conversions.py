"""Refills the day tables of existing networks once the conversion day tables count the conversions that came
through a click (`click_conversions`, the conversion rate's numerator): rows written before hold 0 there. The same
rebuild as 0001 (today's code: the rebuild is the one definition of these sums)."""

from django.db import migrations


def refill(apps, schema_editor):
    from network.models import Network
    from reports.rebuild import days_rebuild

    for network_id in Network.objects.order_by("pk").values_list("pk", flat=True):
        days_rebuild(network_id)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_fill_day_tables"),
        ("tracking", "0019_conversion_days_click_conversions"),
    ]

    operations = [migrations.RunPython(refill, migrations.RunPython.noop)]
