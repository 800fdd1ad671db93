"""GET /api/v1/reports: one report for any party (its own numbers only), as JSON or `?format=csv`."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from network.models import Affiliate
from network.permissions import ALL_ROLES
from network.tenancy import TenantGenericAPIView
from programs.models import Program
from tracking.models import ClickRollup

from .csv_export import ReportCsvRenderer
from .selectors import GROUPS, ReportQuery, report
from .serializers import ReportParamsSerializer, ReportSerializer


def build_query(*, params, network, membership) -> ReportQuery:
    """Validated parameters -> ReportQuery. Raises ValidationError (400); a program or affiliate the
    membership cannot see (another network's, another advertiser's) raises Http404."""
    serializer = ReportParamsSerializer(data=params, context={"network": network})
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    program = affiliate = None
    if "program" in data:
        program = get_object_or_404(Program.objects.for_network(network).visible_to(membership), pk=data["program"])
    if "affiliate" in data:
        affiliate = get_object_or_404(Affiliate.objects.for_network(network).visible_to(membership),
                                      pk=data["affiliate"])
    return ReportQuery(network=network, membership=membership, group_by=data["group_by"],
                       date_from=data["date_from"], date_to=data["date_to"], currency=data["currency"],
                       program=program, affiliate=affiliate)


def csv_filename(query: ReportQuery) -> str:
    return f"report-{query.group_by}-{query.date_from:%Y%m%d}-{query.date_to:%Y%m%d}-{query.currency}.csv"


class ReportView(TenantGenericAPIView):
    """Clicks, conversions and money grouped by time or a dimension, in the network's time zone."""

    model = ClickRollup
    roles = ALL_ROLES
    renderer_classes = [JSONRenderer, ReportCsvRenderer]
    serializer_class = ReportSerializer

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # an unknown ?format= is a bad parameter (400 from the serializer), not a missing page
            return JSONRenderer(), JSONRenderer.media_type

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 or request.method != "GET":  # errors and OPTIONS are JSON, whatever format
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUPS), description="default day"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="inclusive, network time zone"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="inclusive, default today"),
            OpenApiParameter("program", OpenApiTypes.INT),
            OpenApiParameter("affiliate", OpenApiTypes.INT),
            OpenApiParameter("currency", OpenApiTypes.STR, description="default the network's currency"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={200: ReportSerializer, (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
                   400: OpenApiResponse(description="field errors"), 404: OpenApiResponse(description="unknown id")},
    )
    def get(self, request):
        query = build_query(params=request.query_params, network=self.network, membership=self.membership)
        response = Response(report(query))
        if getattr(request.accepted_renderer, "format", "") == "csv":
            response["Content-Disposition"] = f'attachment; filename="{csv_filename(query)}"'
        response["Cache-Control"] = "private, no-store"
        return response
