from django.contrib import admin

from network.admin_base import ReadOnlyAdmin, TenantAdmin

from .models import (
    Click,
    ClickDay,
    ClickPartnerDay,
    ClickRollup,
    Conversion,
    ConversionDay,
    ConversionDayChange,
    ConversionImport,
    ConversionPartnerDay,
    Delivery,
    DeliveryAttempt,
    LinkRollup,
    MemberAddress,
    PixelToken,
    StripeCustomer,
    StripeEvent,
    StripeIntegration,
    WebhookEndpoint,
)
from .outbound import delivery_resend


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    list_display = ("click_id", "created_at", "affiliate", "program", "country", "device", "is_unique", "is_bot",
                    "velocity_count", "off_target")
    list_filter = ("network", "is_unique", "is_bot", "off_target")
    search_fields = ("click_id",)
    show_full_result_count = False


@admin.register(ClickRollup)
class ClickRollupAdmin(ReadOnlyAdmin):
    list_display = ("hour", "program", "affiliate", "sub1", "sub2", "country", "clicks", "unique_clicks", "bot_clicks",
                    "velocity_clicks")


@admin.register(LinkRollup)
class LinkRollupAdmin(ReadOnlyAdmin):
    list_display = ("hour", "link", "clicks", "unique_clicks")


@admin.register(ClickDay)
class ClickDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "sub1", "country", "clicks", "unique_clicks", "bot_clicks")


@admin.register(ConversionDay)
class ConversionDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "sub1", "country", "currency", "conversions", "sales")


@admin.register(ConversionDayChange)
class ConversionDayChangeAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "sub1", "country", "currency", "conversions", "sales")


@admin.register(ClickPartnerDay)
class ClickPartnerDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "clicks", "unique_clicks", "bot_clicks")


@admin.register(ConversionPartnerDay)
class ConversionPartnerDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "program", "affiliate", "currency", "conversions", "sales")


@admin.register(MemberAddress)
class MemberAddressAdmin(ReadOnlyAdmin):
    """Keyed hashes of the addresses affiliates' members signed in or called the API from (self-referral)."""

    list_display = ("affiliate", "membership", "source", "address_hash", "first_seen_at", "last_seen_at")
    list_filter = ("network", "source")


@admin.register(Conversion)
class ConversionAdmin(TenantAdmin):
    list_display = ("order_id", "advertiser", "affiliate", "event", "amount", "currency", "attribution", "status",
                    "created_at")
    list_filter = ("network", "status", "attribution", "event")
    search_fields = ("order_id", "click_id", "customer_id")
    readonly_fields = ("amount", "currency", "refunded_amount", "click_id", "order_id", "customer_email_hash",
                       "customer_ip_hash", "fraud_signals", "signal_details", "attribution_pending")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    list_display = ("url", "advertiser", "network", "is_active", "created_at")
    list_filter = ("network", "is_active")
    search_fields = ("url",)
    exclude = ("secret",)


@admin.register(PixelToken)
class PixelTokenAdmin(ReadOnlyAdmin):
    # The token itself stays out of the admin: the advertiser rotates it (API or integration page).
    list_display = ("advertiser", "network", "created_at", "rotated_at")
    list_filter = ("network",)
    exclude = ("token",)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "status_code", "latency_ms", "error", "response_excerpt", "retry_in_seconds", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event", "kind", "url", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("network", "status", "kind", "event")
    search_fields = ("url", "event")
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]

    @admin.action(description="Resend the selected deliveries")
    def resend(self, request, queryset):
        for delivery in queryset.select_related("network"):
            delivery_resend(network=delivery.network, delivery=delivery, actor=request.user)
        self.message_user(request, f"{queryset.count()} deliveries queued again.")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ("delivery", "number", "status_code", "latency_ms", "succeeded", "created_at")
    list_filter = ("network", "succeeded")


@admin.register(StripeIntegration)
class StripeIntegrationAdmin(TenantAdmin):
    list_display = ("id", "advertiser", "program", "network", "is_active", "created_at")
    list_filter = ("network", "is_active")
    exclude = ("signing_secret", "token")


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ("customer_id", "integration", "click_id", "created_at")
    search_fields = ("customer_id", "click_id")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "result", "integration", "conversion", "received_at")
    list_filter = ("network", "result", "type")
    search_fields = ("event_id", "object_id", "customer_id")


@admin.register(ConversionImport)
class ConversionImportAdmin(ReadOnlyAdmin):
    list_display = ("id", "advertiser", "filename", "status", "total", "processed", "created", "duplicates",
                    "error_count", "created_at")
    list_filter = ("network", "status")
