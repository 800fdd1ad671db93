"""The group names copied to partner groups are dropped (apart from the copy, see there)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("programs", "0007_rule_partner_group_from_names"),
    ]

    operations = [
        migrations.RemoveField(model_name="commissionrule", name="group_name"),
    ]
