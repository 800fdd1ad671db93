"""A rule's group name turns into the PartnerGroup of that name in the rule's network (created when no affiliate
had that group yet), so existing group rules keep applying to the same affiliates."""

from django.db import migrations


def names_to_groups(apps, schema_editor):
    CommissionRule = apps.get_model("programs", "CommissionRule")
    PartnerGroup = apps.get_model("network", "PartnerGroup")
    rows = CommissionRule.objects.exclude(group_name="").values_list("network_id", "group_name").distinct()
    for network_id, name in rows:
        group, _created = PartnerGroup.objects.get_or_create(network_id=network_id, name=name.strip()[:60])
        CommissionRule.objects.filter(network_id=network_id, group_name=name).update(group=group)


def groups_to_names(apps, schema_editor):
    CommissionRule = apps.get_model("programs", "CommissionRule")
    for rule in CommissionRule.objects.exclude(group=None).select_related("group"):
        CommissionRule.objects.filter(pk=rule.pk).update(group_name=rule.group.name)


class Migration(migrations.Migration):
    # Alone in its migration: PostgreSQL creates the new foreign key's index at the end of the schema migration,
    # and refuses to alter a table with this copy's pending foreign key checks in the same transaction.

    dependencies = [
        ("programs", "0006_rule_partner_group"),
    ]

    operations = [
        migrations.RunPython(names_to_groups, groups_to_names),
    ]
