"""Conversions carry `is_test`: the Integration page's test sales, kept out of every total. Those recorded before
(order id TEST-..., amount zero, nothing attributed) are marked, one network at a time (Citus: each statement
names its network)."""

from django.db import migrations, models


def mark_earlier_test_sales(apps, schema_editor):
    Network = apps.get_model("network", "Network")
    Conversion = apps.get_model("tracking", "Conversion")
    for network_id in Network.objects.values_list("id", flat=True):
        Conversion.objects.filter(network_id=network_id, order_id__startswith="TEST-", amount=0,
                                  attribution="none").update(is_test=True)


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0001_initial"),
        ("tracking", "0021_conversion_network_click_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversion",
            name="is_test",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunPython(mark_earlier_test_sales, migrations.RunPython.noop),
    ]
