"""The group names copied to partner groups are dropped (apart from the copy, see there)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0008_partner_groups_from_names"),
    ]

    operations = [
        migrations.RemoveField(model_name="affiliate", name="group_name"),
    ]
