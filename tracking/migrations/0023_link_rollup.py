"""LinkRollup: clicks per tracking link and hour, which the link builder's figures read instead of scanning the
network's raw clicks. On PostgreSQL its keys carry network_id as every tenant table's (core.citus). 0024 fills it."""

import django.db.models.deletion
from django.db import migrations, models


def tenant_keys(apps, schema_editor):
    """The new table's primary key gets network_id, and its link key is composite on it (core.citus)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from core.citus import rewrite_tenant_keys

    with schema_editor.connection.cursor() as cursor:
        rewrite_tenant_keys(cursor)
        cursor.execute("ALTER TABLE tracking_linkrollup ADD CONSTRAINT tracking_linkrollup_link_fk FOREIGN KEY "
                       "(network_id, link_id) REFERENCES programs_trackinglink (network_id, id) "
                       "DEFERRABLE INITIALLY DEFERRED")


class Migration(migrations.Migration):

    dependencies = [
        ('network', '0013_tracking_domain_txt_challenge_recheck'),
        ('programs', '0015_link_codes_unique_across_networks'),
        ('tracking', '0022_conversion_is_test'),
        # After the rewrite of every tenant key: this table's keys are rewritten here.
        ('payouts', '0007_tenant_keys_include_network'),
    ]

    operations = [
        migrations.CreateModel(
            name='LinkRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('clicks', models.PositiveBigIntegerField(default=0)),
                ('unique_clicks', models.PositiveBigIntegerField(default=0)),
                ('link', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='programs.trackinglink')),
                ('network', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='network.network')),
            ],
            options={
                'ordering': ['hour'],
                'constraints': [models.UniqueConstraint(fields=('network', 'link', 'hour'), name='link_rollup_unique')],
            },
        ),
        migrations.RunPython(tenant_keys, migrations.RunPython.noop),
    ]
