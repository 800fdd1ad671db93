# The commission table's indexes without repeats: each one is paid on every commission written.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commissions', '0007_unique_keys_carry_network'),
        ('network', '0013_tracking_domain_txt_challenge_recheck'),
        ('programs', '0015_link_codes_unique_across_networks'),
        ('tracking', '0026_stored_message_words'),
    ]

    operations = [
        migrations.AlterField(
            model_name='commission',
            name='adjusts',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adjustments', to='commissions.commission'),
        ),
        migrations.AlterField(
            model_name='commission',
            name='affiliate',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='commissions', to='network.affiliate'),
        ),
        migrations.AlterField(
            model_name='commission',
            name='hold_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Only the index goes: Django would also drop and re-add the foreign key, which re-checks every row.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(
                model_name='commission',
                name='network',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='network.network'),
            )],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "commissions_commission_network_id_45fe74b4"',
                reverse_sql='CREATE INDEX "commissions_commission_network_id_45fe74b4" ON "commissions_commission" ("network_id")',
            )],
        ),
        migrations.AlterField(
            model_name='commission',
            name='parent',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='commissions.commission'),
        ),
        migrations.AlterField(
            model_name='commission',
            name='rollup',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tracking.clickrollup'),
        ),
        migrations.AlterField(
            model_name='commission',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending (hold period)'), ('on_hold', 'On hold for review'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('reversed', 'Reversed (refunded)'), ('paid', 'Paid')], default='pending', max_length=10),
        ),
        migrations.AddIndex(
            model_name='commission',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['hold_until'], name='commission_pending_due'),
        ),
        migrations.AddIndex(
            model_name='commission',
            index=models.Index(condition=models.Q(('parent__isnull', False)), fields=['network', 'parent'], name='commission_children'),
        ),
    ]
