"""Admin base: a staff user sees only the networks they belong to; a superuser sees all."""

from django.contrib import admin

from .models import Membership, Network


def admin_network_ids(request) -> list[int] | None:
    """None means all networks (superuser)."""
    if request.user.is_superuser:
        return None
    return list(Membership.objects.filter(user=request.user, is_active=True).values_list("network_id", flat=True))


class TenantAdmin(admin.ModelAdmin):
    """For models with a `network` column."""

    list_filter: tuple = ("network",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = admin_network_ids(request)
        return qs if ids is None else qs.filter(network_id__in=ids)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        ids = admin_network_ids(request)
        if ids is not None and field is not None:
            related = db_field.related_model
            if related is Network:
                field.queryset = field.queryset.filter(pk__in=ids)
            elif any(f.name == "network" for f in related._meta.get_fields()):
                field.queryset = field.queryset.filter(network_id__in=ids)
        return field


class ReadOnlyAdmin(TenantAdmin):
    """Append-only records (audit log, ledger): viewable, never edited in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
