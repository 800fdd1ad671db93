"""Link codes: unique across the installation through LinkCode (a reference table under Citus), unique in their
network on the tracking link (whose keys carry network_id); every existing code gets its LinkCode row."""

import django.db.models.deletion
import programs.models
from django.db import migrations, models


def fill_link_codes(apps, schema_editor):
    TrackingLink = apps.get_model("programs", "TrackingLink")
    LinkCode = apps.get_model("programs", "LinkCode")
    rows = TrackingLink.objects.values_list("code", "network_id").iterator(chunk_size=5000)
    batch = []
    for code, network_id in rows:
        batch.append(LinkCode(code=code, network_id=network_id))
        if len(batch) == 5000:
            LinkCode.objects.bulk_create(batch)
            batch = []
    LinkCode.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('network', '0009_affiliate_group_name_removed'),
        ('programs', '0014_unique_keys_carry_network'),
    ]

    operations = [
        migrations.CreateModel(
            name='LinkCode',
            fields=[
                ('code', models.CharField(max_length=32, primary_key=True, serialize=False)),
            ],
        ),
        migrations.AlterField(
            model_name='trackinglink',
            name='code',
            field=models.CharField(default=programs.models.new_link_code, max_length=32),
        ),
        migrations.AddConstraint(
            model_name='trackinglink',
            constraint=models.UniqueConstraint(fields=('network', 'code'), name='tracking_link_unique_code'),
        ),
        migrations.AddField(
            model_name='linkcode',
            name='network',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='network.network'),
        ),
        migrations.RunPython(fill_link_codes, migrations.RunPython.noop),
    ]
