"""GET /api/v1/links/<id>/clicks: a tracking link's clicks, for whoever may see the link (JSON pages or CSV)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.generics import get_object_or_404

from core import export
from core.days import local_day_bounds
from network.permissions import ALL_ROLES
from network.tenancy import TenantViewSet
from programs.selectors import links_visible_to

from .models import Click

SUBS = tuple(f"sub{n}" for n in range(1, 6))


class ClickSerializer(serializers.ModelSerializer):
    class Meta:
        model = Click
        fields = ["click_id", "created_at", "program", "link", "affiliate", *SUBS, "country", "referrer",
                  "user_agent", "is_unique", "is_bot"]
        read_only_fields = fields


class ClickFilter(django_filters.FilterSet):
    """Created dates (inclusive, in the network's time zone), country, unique, bot, sub IDs."""

    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta:
        model = Click
        fields = ["country", "is_unique", "is_bot", *SUBS]

    def _tz(self) -> str:
        view = self.request.parser_context.get("view") if self.request is not None else None
        return view.network.timezone if view is not None else "UTC"

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=local_day_bounds(value, tz=self._tz())[0])

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=local_day_bounds(value, tz=self._tz())[1])


CLICK_CSV = (
    export.text("click_id"), export.time("created_at"), export.number("program"), export.number("link"),
    export.number("affiliate"), *(export.text(sub) for sub in SUBS), export.text("country"), export.text("referrer"),
    export.text("user_agent"), export.flag("is_unique"), export.flag("is_bot"),
)


@extend_schema(parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                            description="The tracking link's id.")])
class LinkClickViewSet(export.CsvExportMixin, mixins.ListModelMixin, TenantViewSet):
    """Newest first. A link of another network, or one this key may not see, answers 404. No IP data: the
    stored keyed hash and truncated address stay internal."""

    model = Click
    serializer_class = ClickSerializer
    filterset_class = ClickFilter
    roles = ALL_ROLES
    csv_name = "clicks"
    csv_columns = CLICK_CSV

    def scope_queryset(self, queryset):
        link = get_object_or_404(links_visible_to(network=self.network, membership=self.membership),
                                 pk=self.kwargs["id"])
        return queryset.filter(link_id=link.pk).order_by("-created_at", "-id")

    def get_csv_filename(self) -> str:
        return f"link-{self.kwargs['id']}-{super().get_csv_filename()}"
