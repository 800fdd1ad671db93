"""Reads of conversions and deliveries, scoped to a network and narrowed to what a membership may see."""

import hashlib
import hmac

import django_filters
from django.conf import settings
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


def pixel_token_for(advertiser) -> str:
    """The advertiser's image-pixel token: public by nature (it sits in the merchant's page), so it can only
    record conversions for this advertiser, nothing else. Derived, so rotating SECRET_KEY rotates it."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"pixel:{advertiser.pk}".encode(), hashlib.sha256).hexdigest()
    return f"px_{advertiser.pk}_{digest[:24]}"


def dangerously_advertiser_for_pixel_token(token: str):
    """Unscoped on purpose: the token itself names the advertiser (and so the network)."""
    from network.models import Advertiser, PartyStatus

    try:
        _, advertiser_id, _ = token.split("_", 2)
        advertiser = Advertiser.objects.select_related("network").filter(
            pk=int(advertiser_id), status=PartyStatus.ACTIVE).first()
    except (ValueError, AttributeError):
        return None
    if advertiser is None or not hmac.compare_digest(pixel_token_for(advertiser), token):
        return None
    return advertiser
