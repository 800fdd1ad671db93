from django.contrib import admin, messages

from network.admin_base import ReadOnlyAdmin

from . import services
from .models import (
    Account,
    Commission,
    CommissionDay,
    CommissionDayChange,
    CommissionPartnerDay,
    CpcAccrual,
    LedgerEntry,
    TierTrueUp,
    Transaction,
)


@admin.register(Commission)
class CommissionAdmin(ReadOnlyAdmin):
    """Read-only: every change goes through a transition (the actions below), which posts to the ledger."""

    list_display = ("id", "created_at", "network", "program", "affiliate", "kind", "tier", "amount", "revenue",
                    "reversed_amount", "currency", "status")
    list_filter = ("network", "status", "kind", "tier")
    search_fields = ("conversion__order_id", "affiliate__name", "affiliate__email")
    actions = ["approve_selected", "release_selected"]

    def _run(self, request, queryset, service, verb):
        done = 0
        for commission in queryset:
            try:
                service(network=commission.network, commission=commission.pk, actor=request.user)
                done += 1
            except (services.TransitionError, services.TransitionForbidden) as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"{done} commission(s) {verb}.")

    @admin.action(description="Approve selected commissions")
    def approve_selected(self, request, queryset):
        self._run(request, queryset,
                  lambda **kw: services.commission_approve(operator=True, **kw), "approved")

    @admin.action(description="Release selected held commissions to pending")
    def release_selected(self, request, queryset):
        self._run(request, queryset, services.commission_release, "released")

    def has_change_permission(self, request, obj=None):
        # Needed for admin actions; the change form itself shows every field read-only.
        return obj is None and request.user.is_staff

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(CommissionDay)
class CommissionDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "sub1", "country", "currency", "revenue", "payout")


@admin.register(CommissionDayChange)
class CommissionDayChangeAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "sub1", "country", "currency", "revenue", "payout")


@admin.register(CommissionPartnerDay)
class CommissionPartnerDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "currency", "revenue", "payout")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "network", "kind", "party_key", "currency", "balance")
    list_filter = ("network", "kind", "currency")


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("account", "currency", "amount", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "network", "kind", "ref_type", "ref_id", "memo")
    list_filter = ("network", "kind")
    search_fields = ("ref_id", "key", "memo")
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "network", "transaction", "account", "currency", "amount")
    list_filter = ("network", "currency")


@admin.register(CpcAccrual)
class CpcAccrualAdmin(ReadOnlyAdmin):
    list_display = ("rollup", "network", "paid_clicks", "updated_at")


@admin.register(TierTrueUp)
class TierTrueUpAdmin(ReadOnlyAdmin):
    """Closed tier periods trued up (written once by the beat task; its adjustments are commissions)."""

    list_display = ("id", "network", "program", "affiliate", "event", "tier_period", "period_start", "conversions",
                    "amount", "adjusted", "created_at")
    list_filter = ("network", "tier_period")
