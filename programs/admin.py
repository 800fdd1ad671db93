from django.contrib import admin

from network.admin_base import TenantAdmin

from .models import CommissionRule, CouponCode, Creative, Partnership, Program, TrackingLink


class CommissionRuleInline(admin.TabularInline):
    model = CommissionRule
    extra = 0
    fk_name = "program"
    exclude = ("network",)


@admin.register(Program)
class ProgramAdmin(TenantAdmin):
    list_display = ("name", "advertiser", "network", "status", "visibility", "approval", "currency")
    list_filter = ("network", "status", "visibility", "approval")
    search_fields = ("name",)
    inlines = [CommissionRuleInline]


@admin.register(CommissionRule)
class CommissionRuleAdmin(TenantAdmin):
    list_display = ("program", "event", "kind", "payout", "revenue", "affiliate", "group", "recurring_months")
    list_filter = ("network", "event", "kind")


@admin.register(Partnership)
class PartnershipAdmin(TenantAdmin):
    list_display = ("affiliate", "program", "status", "applied_at", "decided_at", "decided_by")
    list_filter = ("network", "status")


@admin.register(Creative)
class CreativeAdmin(TenantAdmin):
    list_display = ("name", "program", "kind", "is_active")
    list_filter = ("network", "kind")


@admin.register(CouponCode)
class CouponCodeAdmin(TenantAdmin):
    list_display = ("code", "partnership", "is_active")
    search_fields = ("code",)


@admin.register(TrackingLink)
class TrackingLinkAdmin(TenantAdmin):
    list_display = ("code", "affiliate", "program", "destination_url", "archived", "created_at")
    list_filter = ("network", "archived")
    search_fields = ("code",)
