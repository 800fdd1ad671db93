"""Each affiliate gets an opaque referral code (its referral link: the join page with `?ref=<code>`)."""

import secrets

from django.db import migrations, models

import network.models


def codes_fill(apps, schema_editor):
    Affiliate = apps.get_model("network", "Affiliate")
    for affiliate in Affiliate.objects.only("pk", "network_id").iterator():
        Affiliate.objects.filter(pk=affiliate.pk, network_id=affiliate.network_id).update(
            referral_code=secrets.token_urlsafe(8)[:10])


class Migration(migrations.Migration):
    dependencies = [("network", "0010_network_is_public")]

    operations = [
        migrations.AddField(
            model_name="affiliate", name="referral_code",
            field=models.CharField(max_length=16, default=""), preserve_default=False),
        migrations.RunPython(codes_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="affiliate", name="referral_code",
            field=models.CharField(max_length=16, default=network.models.new_referral_code)),
        migrations.AddConstraint(
            model_name="affiliate",
            constraint=models.UniqueConstraint(fields=("network", "referral_code"),
                                               name="affiliate_unique_referral_code")),
    ]
