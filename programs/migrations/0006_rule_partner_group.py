"""A rule's group name turns into the PartnerGroup of that name in the rule's network (created when no affiliate
had that group yet), so existing group rules keep applying to the same affiliates."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0009_affiliate_group_name_removed"),
        ("programs", "0005_program_targeting"),
    ]

    operations = [
        migrations.RenameField(model_name="commissionrule", old_name="group", new_name="group_name"),
        migrations.AddField(
            model_name="commissionrule",
            name="group",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="rules", to="network.partnergroup"),
        ),
    ]
