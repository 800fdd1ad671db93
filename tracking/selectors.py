"""Reads of conversions and deliveries, scoped to a network and narrowed to what a membership may see."""


import django_filters
from django.db.models import QuerySet

from network.models import Membership, Network

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
