"""The admin: a staff user sees only their networks' rows; a superuser sees all."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from network.models import Affiliate

pytestmark = pytest.mark.django_db


def staff_client(user, superuser=False):
    user.is_staff = True
    user.is_superuser = superuser
    user.set_password("pw-for-tests-123")
    user.save()
    if not superuser:
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="network"))
    client = Client()
    client.force_login(user)
    return client


def test_staff_user_sees_only_their_networks(world):
    client = staff_client(world.a.owner.user)
    page = client.get("/admin/network/affiliate/")
    assert page.status_code == 200
    assert world.a.affiliate.name.encode() in page.content
    assert world.b.affiliate.name.encode() not in page.content
    assert client.get(f"/admin/network/affiliate/{world.b.affiliate.pk}/change/").status_code == 302
    networks = client.get("/admin/network/network/")
    assert b"Alpha Network" in networks.content and b"Bravo Network" not in networks.content


def test_superuser_sees_every_network(world):
    client = staff_client(world.b.staff.user, superuser=True)
    page = client.get("/admin/network/affiliate/")
    assert page.status_code == 200
    for affiliate in Affiliate.objects.all():
        assert affiliate.name.encode() in page.content


def test_every_model_has_an_admin_page(world):
    from django.apps import apps
    from django.contrib import admin

    client = staff_client(world.a.owner.user, superuser=True)
    for app in ["network", "programs", "tracking", "commissions", "payouts"]:
        for model in apps.get_app_config(app).get_models():
            assert model in admin.site._registry, f"{model.__name__} has no admin"
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert client.get(url).status_code == 200, url
