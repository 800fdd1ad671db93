"""Partner groups become rows of the network: each affiliate's group name turns into a PartnerGroup of its network
(one per distinct name) and the affiliate points to it."""

from django.db import migrations


def names_to_groups(apps, schema_editor):
    Affiliate = apps.get_model("network", "Affiliate")
    PartnerGroup = apps.get_model("network", "PartnerGroup")
    rows = Affiliate.objects.exclude(group_name="").values_list("network_id", "group_name").distinct()
    for network_id, name in rows:
        group, _created = PartnerGroup.objects.get_or_create(network_id=network_id, name=name.strip()[:60])
        Affiliate.objects.filter(network_id=network_id, group_name=name).update(group=group)


def groups_to_names(apps, schema_editor):
    Affiliate = apps.get_model("network", "Affiliate")
    for affiliate in Affiliate.objects.exclude(group=None).select_related("group"):
        Affiliate.objects.filter(pk=affiliate.pk).update(group_name=affiliate.group.name)


class Migration(migrations.Migration):
    # Alone in its migration: PostgreSQL creates the new foreign key's index at the end of the schema migration,
    # and refuses to alter a table with this copy's pending foreign key checks in the same transaction.

    dependencies = [
        ("network", "0007_partner_groups"),
    ]

    operations = [
        migrations.RunPython(names_to_groups, groups_to_names),
    ]
