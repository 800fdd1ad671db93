"""CSV imports of conversions: `POST /api/v1/conversions/import` (an advertiser's file, answered 202 with the job)
and `GET /api/v1/imports[/<id>]` (the jobs' progress and refused rows)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from network.models import Role
from network.permissions import OPERATORS
from network.tenancy import TenantGenericAPIView, TenantViewSet

from . import imports
from .models_import import ConversionImport
from .recording import RECORDING_ROLES

# Multipart framing around the file: a request this much over the file limit is refused before it is parsed.
_FRAMING = 64 * 1024


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number in the file (the header is row 1).")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Field errors, as the conversion postback answers them.")


class ConversionImportSerializer(serializers.ModelSerializer):
    errors = ImportRowErrorSerializer(many=True, read_only=True, help_text=(
        f"The refused rows (the first {imports.IMPORT_ERRORS_KEPT}; `error_count` counts them all). "
        "A refused row is skipped, never half-written."))

    class Meta:
        model = ConversionImport
        fields = ["id", "status", "filename", "total", "processed", "created", "duplicates", "error_count", "errors",
                  "detail", "created_at", "started_at", "finished_at"]
        read_only_fields = fields
        extra_kwargs = {
            "total": {"help_text": "Data rows in the file (the header excluded)."},
            "processed": {"help_text": "Rows handled so far; equals total once done."},
            "created": {"help_text": "New conversions."},
            "duplicates": {"help_text": "Rows whose order_id was already recorded with the same amount and currency."},
            "detail": {"help_text": "Why the import failed, when it did."},
        }


class ConversionImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=(
        "A UTF-8 CSV file whose header names the columns: order_id, amount, currency (required) and any of "
        "click_id, coupon, customer_id, event, occurred_at (ISO 8601; without an offset, in the network's time "
        "zone). At most CONVERSION_IMPORT_MAX_BYTES (20 MB by default)."))


_refused = inline_serializer("ImportRefused", {"detail": serializers.CharField()})


class ConversionImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """An advertiser's CSV imports of offline conversions (operators see every advertiser's), newest first."""

    model = ConversionImport
    serializer_class = ConversionImportSerializer
    roles = frozenset({Role.ADVERTISER, *OPERATORS})

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership)


class ConversionImportCreateView(TenantGenericAPIView):
    """`POST /api/v1/conversions/import`: an advertiser's CSV file becomes an import job."""

    model = ConversionImport
    serializer_class = ConversionImportUploadSerializer
    roles = RECORDING_ROLES
    parser_classes = [MultiPartParser, FormParser]

    @property
    def idempotency_body_limit(self) -> int:
        return settings.CONVERSION_IMPORT_MAX_BYTES + _FRAMING

    @extend_schema(
        request={"multipart/form-data": ConversionImportUploadSerializer},
        responses={202: ConversionImportSerializer,
                   400: OpenApiResponse(_refused, description=(
                       "Not a CSV file (binary or not UTF-8), no header row, a missing required or unknown column, "
                       "no rows, or larger than the limit: nothing is recorded.")),
                   415: OpenApiResponse(description="The body is not multipart/form-data.")},
        examples=[OpenApiExample("Queued", response_only=True, status_codes=["202"], value={
            "id": 7, "status": "queued", "filename": "orders.csv", "total": 3, "processed": 0, "created": 0,
            "duplicates": 0, "error_count": 0, "errors": [], "detail": "", "created_at": "2026-03-01T10:00:00Z",
            "started_at": None, "finished_at": None})],
        description=(
            "Import offline conversions from a CSV file. Answers 202 with the job; `GET /api/v1/imports/{id}` "
            "follows it. Each row is recorded as `POST /api/v1/conversions` would record it (idempotent on "
            "order_id, the same attribution, fraud checks and commissions); a bad row is reported in `errors` "
            "with its row number and skipped."),
    )
    def post(self, request):
        advertiser = self.membership.party
        if advertiser is None:
            raise PermissionDenied("This key has no advertiser profile.")
        limit = settings.CONVERSION_IMPORT_MAX_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + _FRAMING:
            return _refuse(imports.too_large())
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": "Send the CSV file in the multipart field `file`."},
                            status=status.HTTP_400_BAD_REQUEST)
        if upload.size > limit:
            return _refuse(imports.too_large())
        try:
            job = imports.conversion_import_create(network=self.network, advertiser=advertiser, data=upload.read(),
                                                   filename=upload.name or "", membership=self.membership)
        except imports.ImportRefused as exc:
            return _refuse(exc)
        job.refresh_from_db()  # the embedded default (eager tasks) may have run it already
        return Response(ConversionImportSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def _refuse(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
