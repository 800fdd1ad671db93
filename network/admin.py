from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from . import domains
from .admin_base import ReadOnlyAdmin, TenantAdmin, admin_network_ids
from .models import (
    Advertiser,
    Affiliate,
    Announcement,
    ApiKey,
    AuditLog,
    DayRebuild,
    IdempotencyKey,
    Membership,
    Network,
    PartnerGroup,
    TrackingDomain,
    User,
    VerifiedDomain,
)


@admin.register(User)
class NetworkUserAdmin(UserAdmin):
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = admin_network_ids(request)
        return qs if ids is None else qs.filter(memberships__network_id__in=ids).distinct()


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_currency", "timezone", "created_at")
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = admin_network_ids(request)
        return qs if ids is None else qs.filter(pk__in=ids)

    def has_add_permission(self, request):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ("user", "network", "role", "is_active", "created_at")
    list_filter = ("network", "role", "is_active")
    search_fields = ("user__email",)


@admin.register(Advertiser)
class AdvertiserAdmin(TenantAdmin):
    list_display = ("name", "email", "network", "status")
    list_filter = ("network", "status")
    search_fields = ("name", "email")


@admin.register(Affiliate)
class AffiliateAdmin(TenantAdmin):
    list_display = ("name", "email", "network", "status", "group", "referred_by")
    list_filter = ("network", "status", "group")
    search_fields = ("name", "email")


@admin.register(PartnerGroup)
class PartnerGroupAdmin(TenantAdmin):
    list_display = ("name", "network", "created_at")
    list_filter = ("network",)
    search_fields = ("name",)


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    list_display = ("prefix", "name", "membership", "network", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "hashed_key", "created_at", "last_used_at")
    exclude = ()

    def has_add_permission(self, request):
        return False  # keys are issued through the API or the dashboard, which show them once


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "network", "actor", "action", "target_type", "target_id")
    list_filter = ("network", "action")


@admin.register(DayRebuild)
class DayRebuildAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "network", "timezone", "status", "done", "total", "finished_at")
    list_filter = ("status",)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    """API POSTs' kept answers (24 hours), to see what a client's retry was answered."""

    list_display = ("created_at", "network", "key", "api_key", "membership", "status_code")
    list_filter = ("network", "status_code")
    search_fields = ("key",)
    raw_id_fields = ("api_key", "membership")


@admin.register(Announcement)
class AnnouncementAdmin(TenantAdmin):
    list_display = ("title", "network", "audience", "created_at")


@admin.register(TrackingDomain)
class TrackingDomainAdmin(TenantAdmin):
    """Viewable and deletable (a name claimed by the wrong network); added and verified through the API or pages."""

    list_display = ("domain", "network", "advertiser", "verified_at", "checked_at", "failed_checks", "created_at")
    list_filter = ("network", ("verified_at", admin.EmptyFieldListFilter))
    search_fields = ("domain",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        domains.tracking_domain_delete(network=obj.network, tracking_domain=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("network"):
            self.delete_model(request, obj)


@admin.register(VerifiedDomain)
class VerifiedDomainAdmin(ReadOnlyAdmin):
    """Which network holds each verified tracking domain: written and deleted with the domain, never edited."""

    list_display = ("domain", "network")
    search_fields = ("domain",)
