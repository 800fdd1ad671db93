"""Approved partnerships of active programs get their default (plain) link, which approval now makes: the
Creatives page no longer creates one when it is opened."""

import secrets

from django.db import migrations


def default_links_make(apps, schema_editor):
    Partnership = apps.get_model("programs", "Partnership")
    TrackingLink = apps.get_model("programs", "TrackingLink")
    plain = {"archived": False, "destination_url": "", "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": ""}
    for partnership in Partnership.objects.filter(status="approved", program__status="active").iterator():
        if TrackingLink.objects.filter(network_id=partnership.network_id, partnership_id=partnership.pk,
                                       **plain).exists():
            continue
        code = secrets.token_urlsafe(8)[:10]
        while TrackingLink.objects.filter(code=code).exists():
            code = secrets.token_urlsafe(8)[:10]
        TrackingLink.objects.create(network_id=partnership.network_id, partnership_id=partnership.pk,
                                    program_id=partnership.program_id, affiliate_id=partnership.affiliate_id,
                                    code=code)


class Migration(migrations.Migration):
    dependencies = [("programs", "0012_creative_image_public_storage")]

    operations = [migrations.RunPython(default_links_make, migrations.RunPython.noop)]
