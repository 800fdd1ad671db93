from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models

from network.admin_base import ReadOnlyAdmin, TenantAdmin

from . import services
from .models import CapCounter, CommissionRule, CouponCode, Creative, LinkCode, Partnership, Program, TrackingLink

# Typed URLs without a scheme become https:// (Django 6's default; silences its deprecation warning).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class CommissionRuleInline(admin.TabularInline):
    model = CommissionRule
    extra = 0
    fk_name = "program"
    exclude = ("network",)
    raw_id_fields = ("affiliate",)


@admin.register(Program)
class ProgramAdmin(TenantAdmin):
    list_display = ("name", "advertiser", "network", "status", "visibility", "approval", "currency", "hold_days")
    list_filter = ("network", "status", "visibility", "approval")
    list_select_related = ("advertiser", "network")
    search_fields = ("name", "advertiser__name")
    raw_id_fields = ("advertiser",)
    formfield_overrides = URL_FIELDS
    inlines = [CommissionRuleInline]


@admin.register(CommissionRule)
class CommissionRuleAdmin(TenantAdmin):
    list_display = ("program", "event", "kind", "payout", "revenue", "affiliate", "group", "recurring_months")
    list_filter = ("network", "event", "kind")
    list_select_related = ("program", "affiliate")
    search_fields = ("program__name", "group__name")
    raw_id_fields = ("program", "affiliate")


def _decide(modeladmin, request, queryset, status):
    done = 0
    for partnership in queryset:
        try:
            services.partnership_decide(network=partnership.network, partnership=partnership, status=status,
                                        actor=request.user)
            done += 1
        except ValidationError as exc:
            modeladmin.message_user(request, f"{partnership}: {' '.join(exc.messages)}", messages.WARNING)
    modeladmin.message_user(request, f"{done} partnership(s) {status}.")


@admin.register(Partnership)
class PartnershipAdmin(TenantAdmin):
    list_display = ("affiliate", "program", "network", "status", "applied_at", "invited_at", "decided_at",
                    "decided_by")
    list_filter = ("network", "status")
    list_select_related = ("affiliate", "program", "network", "decided_by")
    search_fields = ("affiliate__name", "affiliate__email", "program__name")
    raw_id_fields = ("program", "affiliate", "decided_by", "invited_by")
    # Status changes go through the actions, which check the transition, mail the affiliate and audit.
    readonly_fields = ("status", "decided_at", "decided_by", "invited_at", "invited_by")
    actions = ["approve", "reject", "suspend"]

    @admin.action(description="Approve selected pending partnerships")
    def approve(self, request, queryset):
        _decide(self, request, queryset, Partnership.Status.APPROVED)

    @admin.action(description="Reject selected pending partnerships")
    def reject(self, request, queryset):
        _decide(self, request, queryset, Partnership.Status.REJECTED)

    @admin.action(description="Suspend selected approved partnerships")
    def suspend(self, request, queryset):
        _decide(self, request, queryset, Partnership.Status.SUSPENDED)


@admin.register(Creative)
class CreativeAdmin(TenantAdmin):
    list_display = ("name", "program", "kind", "width", "height", "is_active", "created_at")
    list_filter = ("network", "kind", "is_active")
    list_select_related = ("program",)
    search_fields = ("name", "program__name")
    raw_id_fields = ("program",)


@admin.register(CouponCode)
class CouponCodeAdmin(TenantAdmin):
    list_display = ("code", "partnership", "network", "is_active", "created_at")
    list_filter = ("network", "is_active")
    list_select_related = ("partnership__affiliate", "partnership__program", "network")
    search_fields = ("code", "partnership__affiliate__name")
    raw_id_fields = ("partnership",)


@admin.register(TrackingLink)
class TrackingLinkAdmin(TenantAdmin):
    list_display = ("code", "affiliate", "program", "destination_url", "sub1", "archived", "created_at")
    list_filter = ("network", "archived")
    list_select_related = ("affiliate", "program")
    search_fields = ("code", "sub1", "affiliate__name")
    raw_id_fields = ("partnership", "program", "affiliate")
    readonly_fields = ("code",)
    formfield_overrides = URL_FIELDS


@admin.register(LinkCode)
class LinkCodeAdmin(ReadOnlyAdmin):
    """Which network each link code belongs to: written with the link, never edited."""

    list_display = ("code", "network")
    search_fields = ("code",)


@admin.register(CapCounter)
class CapCounterAdmin(ReadOnlyAdmin):
    """What each program (or partnership) delivered per cap period: written only by the commission writer."""

    list_display = ("program", "partnership", "period", "period_start", "conversions", "payout", "conversions_alerted",
                    "payout_alerted")
    list_filter = ("network", "period")
    list_select_related = ("program", "partnership")
