"""Payout settings saved by the old network settings form (`{"schedule": "weekly", "weekday": 4, "day": 15,
"thresholds": {...}}`) rewritten in the payouts app's schema (`payouts.policy`); they were read as manual before."""

from django.db import migrations

KINDS = ("weekly", "monthly", "manual")


def forwards(apps, schema_editor):
    Network = apps.get_model("network", "Network")
    for network in Network.objects.exclude(payout_settings={}).only("pk", "payout_settings"):
        old = network.payout_settings
        if not isinstance(old, dict) or not isinstance(old.get("schedule"), str) or old["schedule"] not in KINDS:
            continue
        new = {key: value for key, value in old.items() if key in ("thresholds", "fee")}
        new["schedule"] = {"kind": old["schedule"]}
        for key in ("weekday", "day"):
            if isinstance(old.get(key), int) and not isinstance(old.get(key), bool):
                new["schedule"][key] = old[key]
        Network.objects.filter(pk=network.pk).update(payout_settings=new)


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0001_initial"),
        ("payouts", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
