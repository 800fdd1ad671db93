"""Partner groups become rows of the network: each affiliate's group name turns into a PartnerGroup of its network
(one per distinct name) and the affiliate points to it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0006_tracking_domains"),
    ]

    operations = [
        migrations.CreateModel(
            name="PartnerGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=60)),
                ("description", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("network", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                              to="network.network")),
            ],
            options={
                "ordering": ["name", "id"],
                "constraints": [models.UniqueConstraint(fields=("network", "name"), name="partner_group_unique_name")],
            },
        ),
        migrations.RenameField(model_name="affiliate", old_name="group", new_name="group_name"),
        migrations.AddField(
            model_name="affiliate",
            name="group",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="affiliates", to="network.partnergroup"),
        ),
    ]
