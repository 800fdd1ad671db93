"""The data migration that rewrites payout settings saved by the old web form in the policy's schema."""

import importlib

from django.apps import apps

from network.models import Network
from payouts.policy import payout_policy

migration = importlib.import_module("payouts.migrations.0002_payout_settings_from_the_old_web_form")


def test_old_web_settings_become_the_schedule_they_meant(world):
    Network.objects.filter(pk=world.a.network.pk).update(
        payout_settings={"schedule": "weekly", "weekday": 4, "thresholds": {"EUR": "50.00"}})
    keep = {"schedule": {"kind": "monthly", "weekday": 0, "day": 15}, "thresholds": {}, "fee": {}}
    Network.objects.filter(pk=world.b.network.pk).update(payout_settings=keep)
    migration.forwards(apps, None)
    a = Network.objects.get(pk=world.a.network.pk)
    assert a.payout_settings == {"schedule": {"kind": "weekly", "weekday": 4}, "thresholds": {"EUR": "50.00"}}
    policy = payout_policy(a)
    assert (policy.schedule_kind, policy.weekday, str(policy.threshold("EUR"))) == ("weekly", 4, "50.00")
    assert Network.objects.get(pk=world.b.network.pk).payout_settings == keep
