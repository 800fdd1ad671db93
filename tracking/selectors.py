"""Reads of conversions and deliveries, scoped to a network and narrowed to what a membership may see."""

from decimal import Decimal

import django_filters
from django.db.models import QuerySet

from network.models import AuditLog, Membership, Network

from .models import Conversion, RefundStatus, refund_status_q
from .models_outbound import Delivery


class ConversionFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    refund_status = django_filters.ChoiceFilter(choices=RefundStatus.choices, method="filter_refund_status")

    class Meta:
        model = Conversion
        fields = ["status", "attribution", "event", "affiliate", "program", "order_id", "click_id", "currency"]

    def filter_refund_status(self, queryset, name, value):
        return queryset.filter(refund_status_q(value))


class DeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["status", "kind", "event", "endpoint"]


def conversions_visible_to(*, network: Network, membership: Membership) -> QuerySet:
    """Operators: the network's; advertiser: its own; affiliate: those attributed to it (`visible_to`)."""
    return Conversion.objects.for_network(network).visible_to(membership).select_related("coupon")


def conversion_history(*, network: Network, conversion: Conversion) -> list[dict]:
    """The order's story for its page, oldest first: recorded (at the amount of the sale), then each refund and
    each correction (from the audit log: amounts, the items refunded by name, who acted)."""
    entries = list(AuditLog.objects.for_network(network)
                   .filter(target_type=Conversion._meta.label_lower, target_id=str(conversion.pk),
                           action__in=("conversion.refunded", "conversion.adjusted"))
                   .select_related("actor").order_by("created_at", "id"))
    corrections = [entry for entry in entries if entry.action == "conversion.adjusted"]
    sold = Decimal(corrections[0].data["amount_before"]) if corrections else conversion.amount
    rows = [{"kind": "recorded", "at": conversion.created_at, "amount": sold, "actor": None}]
    for entry in entries:
        data, actor = entry.data or {}, entry.actor.email if entry.actor_id else None
        if entry.action == "conversion.refunded":
            rows.append({"kind": "refunded", "at": entry.created_at, "amount": Decimal(data.get("amount") or 0),
                         "skus": [item.get("sku", "") for item in data.get("items") or []], "actor": actor})
        else:
            rows.append({"kind": "corrected", "at": entry.created_at, "actor": actor,
                         "amount_before": Decimal(data.get("amount_before") or 0),
                         "amount": Decimal(data.get("amount") or 0), "items_changed": bool(data.get("items_changed"))})
    return rows
