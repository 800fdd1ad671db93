from django.contrib import admin

from network.admin_base import ReadOnlyAdmin, TenantAdmin

from .models import Click, ClickRollup, Conversion


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    list_display = ("click_id", "created_at", "affiliate", "program", "country", "is_unique", "is_bot")
    list_filter = ("network", "is_unique", "is_bot")
    search_fields = ("click_id",)
    show_full_result_count = False


@admin.register(ClickRollup)
class ClickRollupAdmin(ReadOnlyAdmin):
    list_display = ("hour", "program", "affiliate", "sub1", "country", "clicks", "unique_clicks", "bot_clicks")


@admin.register(Conversion)
class ConversionAdmin(TenantAdmin):
    list_display = ("order_id", "advertiser", "affiliate", "event", "amount", "currency", "attribution", "status",
                    "created_at")
    list_filter = ("network", "status", "attribution", "event")
    search_fields = ("order_id", "click_id", "customer_id")
    readonly_fields = ("amount", "currency", "refunded_amount", "click_id", "order_id")
