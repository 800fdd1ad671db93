from django.contrib import admin, messages

from network.admin_base import ReadOnlyAdmin, TenantAdmin

from .batches import payout_batch_run
from .models import Payout, PayoutBatch, PayoutMethod, StripeEvent, TaxDetails
from .transitions import PayoutTransitionError, payout_mark_paid


@admin.register(PayoutMethod)
class PayoutMethodAdmin(TenantAdmin):
    list_display = ("id", "network", "affiliate", "kind", "is_default", "stripe_account_id", "stripe_onboarded",
                    "paypal_email", "bank_country")
    list_filter = ("network", "kind", "is_default")
    search_fields = ("affiliate__name", "affiliate__email", "paypal_email", "stripe_account_id")


@admin.register(TaxDetails)
class TaxDetailsAdmin(TenantAdmin):
    list_display = ("affiliate", "network", "legal_name", "country", "form_type", "updated_at")
    search_fields = ("affiliate__name", "legal_name", "tax_id")


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    """Read-only: batches change only by running (the action below resumes an interrupted one)."""

    list_display = ("id", "network", "status", "trigger", "period_key", "done", "total", "created_at",
                    "completed_at")
    list_filter = ("network", "status", "trigger")
    actions = ["resume_selected"]

    @admin.action(description="Run / resume selected batches")
    def resume_selected(self, request, queryset):
        for batch in queryset:
            batch = payout_batch_run(batch_id=batch.pk, network_id=batch.network_id, actor=request.user)
            self.message_user(request, f"Batch {batch.pk}: {batch.status}.")

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_staff


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "network", "batch", "affiliate", "amount", "fee", "net", "currency", "method_kind",
                    "status", "provider_reference")
    list_filter = ("network", "status", "method_kind", "currency")
    search_fields = ("affiliate__name", "provider_reference")
    actions = ["mark_paid_selected"]

    @admin.action(description="Mark selected payouts paid (PayPal / bank, after paying them)")
    def mark_paid_selected(self, request, queryset):
        done = 0
        for payout in queryset:
            try:
                payout_mark_paid(network=payout.network, payout=payout.pk, actor=request.user)
                done += 1
            except PayoutTransitionError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"{done} payout(s) marked paid.")

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_staff


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "payout", "received_at")
    readonly_fields = ("event_id", "type", "payout", "received_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Not tenant-owned (one endpoint for all networks): superusers only.
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
