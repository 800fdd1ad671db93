"""Conversions postback API, webhook endpoints, deliveries and the affiliate's postback URL."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core import export
from core.throttling import ConversionRateThrottle
from network.hosts import tracking_base_url
from network.models import Affiliate, Role
from network.permissions import ALL_ROLES, OPERATORS
from network.tenancy import TenantGenericAPIView, TenantViewSet

from . import pixel, selectors, services
from .adjustments import conversion_adjust
from .events import catalogue
from .models import Conversion, refund_status
from .models_outbound import Delivery, WebhookEndpoint
from .outbound import delivery_resend
from .postback_fast import FAST_TRIED, postback_fast
from .recording import RECORDING_ROLES
from .serializers import (
    AffiliateConversionSerializer,
    ConversionAdjustSerializer,
    ConversionCreateSerializer,
    ConversionRecordedSerializer,
    ConversionSerializer,
    DeliveryDetailSerializer,
    DeliverySerializer,
    PostbackSerializer,
    RefundSerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
    WebhookEventTypeSerializer,
    conversion_recorded_representation,
    postback_representation,
)

ADVERTISER_OR_OPERATOR = frozenset({Role.ADVERTISER, *OPERATORS})
_conflict = inline_serializer("OrderConflict", {"detail": serializers.CharField(), "id": serializers.IntegerField()})


PIXEL_TOKEN = inline_serializer("PixelToken", {"token": serializers.CharField(),
                                               "pixel_url": serializers.CharField()})


CONVERSION_CSV = (
    export.number("id"), export.text("order_id"), export.text("event"), export.money("amount"),
    export.money("refunded_amount"), export.computed("refund_status", ("amount", "refunded_amount"), refund_status),
    export.text("currency"), export.text("status"), export.text("attribution"),
    export.flag("attribution_pending"), export.number("program"), export.number("partnership"),
    export.number("affiliate"), export.number("link"),
    # The affiliate's code when it is one, else the code as sent (conversion_representation's rule).
    export.computed("coupon", ("coupon__code", "coupon_code"), lambda code, sent: code or sent or None),
    export.text("click_id"), export.time("clicked_at"), *(export.text(f"sub{n}") for n in range(1, 6)),
    export.text("country"), export.text("customer_id"), export.joined("fraud_signals"), export.time("created_at"),
)


class ConversionViewSet(export.CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Server-to-server conversion postback (advertiser), refunds, and the conversion list of each party (also as
    CSV)."""

    model = Conversion
    csv_name = "conversions"
    roles = ALL_ROLES
    action_roles = {"create": RECORDING_ROLES, "refund": ADVERTISER_OR_OPERATOR, "adjust": ADVERTISER_OR_OPERATOR}
    filterset_class = selectors.ConversionFilter

    def scope_queryset(self, queryset):
        return selectors.conversions_visible_to(network=self.network, membership=self.membership) & queryset

    def get_throttles(self):
        if self.action == "create":  # the postback takes high volume: its own scope, not the API's
            return [ConversionRateThrottle()]
        return super().get_throttles()

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or self.role != Role.AFFILIATE:
            return ConversionSerializer
        return AffiliateConversionSerializer

    def get_csv_columns(self):
        fields = set(self.get_serializer_class().Meta.fields)  # an affiliate's columns are its JSON's
        return [column for column in CONVERSION_CSV if column.name in fields]

    @extend_schema(
        request=ConversionCreateSerializer,
        responses={201: ConversionRecordedSerializer, 200: ConversionRecordedSerializer, 409: _conflict},
        description="Record a sale or lead. The same order_id again answers 200 with the same conversion; "
        "with another amount or currency, 409. A coupon that is not an affiliate's code never refuses the sale: "
        "it is kept on the conversion (`coupon`), which its click or known customer still attributes; when nothing "
        "does, the sale is recorded unattributed and `warnings` says the coupon is unknown.",
    )
    def create(self, request):
        data = ConversionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        advertiser = self.membership.party
        if advertiser is None:
            raise PermissionDenied("This key has no advertiser profile.")
        try:
            recorded = services.conversion_record(
                network=self.network, advertiser=advertiser, program_id=values.pop("program", None), **values,
            )
        except services.OrderConflict as exc:
            return Response(
                {"detail": "This order_id is already recorded with a different amount or currency.",
                 "id": exc.conversion.pk},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(conversion_recorded_representation(recorded.conversion, recorded.warnings),
                        status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK)

    @extend_schema(request=RefundSerializer, responses=ConversionSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        conversion = self.get_object()
        data = RefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversion, _ = services.conversion_refund(network=self.network, conversion=conversion,
                                                   amount=data.validated_data.get("amount"), actor=request.user,
                                                   items=data.validated_data.get("items"))
        return Response(ConversionSerializer(conversion).data)

    @extend_schema(request=ConversionAdjustSerializer, responses=ConversionSerializer,
                   description="Correct a recorded order: its amount and/or items (the corrected order replaces the "
                   "cart). Its commissions are priced again at the sale's rates (item lines: the unchanged keep "
                   "theirs, the changed and new ones are priced with the program's rules as they stood when the "
                   "commission was computed; a percent of the whole: its recorded rate, or the trued-up rate after "
                   "the period's tier true-up, on the new amount) and the difference is posted. After partial "
                   "refunds what was refunded stays refunded: each commission becomes what the corrected cart pays "
                   "less what the refunds reversed (never below zero), and later refunds reverse the rest in "
                   "proportion to the rest of the order. 400 when nothing changes, the amount is not more than "
                   "what was refunded or less than the items' total, the conversion is fully refunded, or one of "
                   "its commissions was rejected.")
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        conversion = self.get_object()
        data = ConversionAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversion = conversion_adjust(network=self.network, conversion=conversion,
                                       amount=data.validated_data.get("amount"),
                                       items=data.validated_data.get("items"), actor=request.user)
        return Response(ConversionSerializer(conversion).data)


    @extend_schema(request=None, responses=PIXEL_TOKEN)
    @action(detail=False, methods=["get"], url_path="pixel-token")
    def pixel_token(self, request):
        """The advertiser's token for the image pixel (GET /api/v1/conversions/pixel), issued on first ask."""
        advertiser = self._pixel_advertiser()
        return self._pixel_response(request, pixel.pixel_token_get(network=self.network, advertiser=advertiser))

    @extend_schema(request=None, responses=PIXEL_TOKEN)
    @action(detail=False, methods=["post"], url_path="pixel-token/rotate")
    def pixel_token_rotate(self, request):
        """A new pixel token: pixels with the old one answer 403 (an unknown pixel) from now on."""
        advertiser = self._pixel_advertiser()
        token = pixel.pixel_token_rotate(network=self.network, advertiser=advertiser, actor=request.user)
        return self._pixel_response(request, token)

    def _pixel_advertiser(self):
        if self.role != Role.ADVERTISER or self.membership.party is None:
            raise PermissionDenied("Only advertisers have a pixel token.")
        return self.membership.party

    def _pixel_response(self, request, token: str) -> Response:
        url = pixel_url(token, network_id=self.network.pk, advertiser_id=self.membership.party.pk)
        return Response({"token": token, "pixel_url": url})


def pixel_url(token: str, *, network_id: int, advertiser_id: int) -> str:
    """The image pixel's URL, on the advertiser's (or network's) tracking domain like its links."""
    url = tracking_base_url(network_id=network_id, advertiser_id=advertiser_id) + "/api/v1/conversions/pixel"
    return f"{url}?token={token}&order_id={{order_id}}&amount={{amount}}&currency={{currency}}&click_id={{click_id}}"


# 1x1 transparent GIF
PIXEL_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


class ConversionPixelView(APIView):
    """Image postback for merchants that cannot call the API from their server: the same fields as
    POST /conversions in the query string, authenticated by the advertiser's pixel token (not an API key).
    Always answers a 1x1 GIF; the status code says what happened (201 new, 200 repeat, 400, 403), and an
    `X-Conversion-Warnings` header lists warning codes (e.g. `unknown_coupon` on an unattributed sale)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True), OpenApiParameter("order_id", str, required=True),
                    OpenApiParameter("amount", str), OpenApiParameter("currency", str, required=True),
                    OpenApiParameter("event", str), OpenApiParameter("click_id", str), OpenApiParameter("coupon", str),
                    OpenApiParameter("customer_id", str)],
        responses={(201, "image/gif"): OpenApiTypes.BINARY, (200, "image/gif"): OpenApiTypes.BINARY,
                   (400, "image/gif"): OpenApiTypes.BINARY, (403, "image/gif"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        advertiser = pixel.dangerously_advertiser_for_pixel_token(request.query_params.get("token", ""))
        if advertiser is None:
            return self._gif(403)
        fields = ("order_id", "amount", "currency", "event", "click_id", "coupon", "customer_id")
        query = request.query_params
        data = ConversionCreateSerializer(data={name: query[name] for name in fields if name in query})
        if not data.is_valid():
            return self._gif(400)
        try:
            recorded = services.conversion_record(
                network=advertiser.network, advertiser=advertiser, customer_ip=request.META.get("REMOTE_ADDR", ""),
                **data.validated_data,
            )
        except (services.OrderConflict, DjangoValidationError):
            return self._gif(400)
        response = self._gif(201 if recorded.created else 200)
        if recorded.warnings:  # an image has no body to say it in: the sale is recorded all the same
            response["X-Conversion-Warnings"] = ",".join(warning["code"] for warning in recorded.warnings)
        return response

    @staticmethod
    def _gif(status_code: int) -> HttpResponse:
        response = HttpResponse(PIXEL_GIF, content_type="image/gif", status=status_code)
        response["Cache-Control"] = "no-store, max-age=0"
        return response


_conversion_list_create = ConversionViewSet.as_view({"get": "list", "post": "create"}, basename="conversion",
                                                   detail=False)


@csrf_exempt
def conversions_entry(request, *args, **kwargs):
    """`/api/v1/conversions`: the postback's fast path first, the DRF view for everything else. A request the WSGI
    middleware has tried already (and handed on) goes straight to the DRF view; one that came another way (ASGI,
    the test client) tries the fast path here."""
    if request.method == "POST" and not request.META.get(FAST_TRIED):
        response = postback_fast(request)
        if response is not None:
            return response
    return _conversion_list_create(request, *args, **kwargs)


class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Advertisers' (and the operators' network-wide) signed webhook endpoints. The secret is shown on create."""

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    roles = ADVERTISER_OR_OPERATOR

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership)

    @extend_schema(request=WebhookEndpointSerializer, responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request):
        data = WebhookEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        advertiser = self.membership.party if self.role == Role.ADVERTISER else None
        endpoint = services.webhook_endpoint_create(
            network=self.network, advertiser=advertiser, url=data.validated_data["url"],
            events=data.validated_data["events"], description=data.validated_data.get("description", ""),
            actor=request.user,
        )
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointSerializer, responses=WebhookEndpointSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=WebhookEndpointSerializer, responses=WebhookEndpointSerializer)
    def update(self, request, pk=None, partial=False):
        """PUT replaces the endpoint's settings (every writable field required); PATCH changes the fields sent."""
        endpoint = self.get_object()
        data = WebhookEndpointSerializer(endpoint, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.webhook_endpoint_update(network=self.network, endpoint=endpoint, actor=request.user,
                                         **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        services.webhook_endpoint_delete(network=self.network, endpoint=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.webhook_endpoint_send_test(network=self.network, endpoint=self.get_object())
        return Response(DeliverySerializer(Delivery.objects.get(network=self.network, pk=delivery.pk)).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=WebhookEndpointCreatedSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        from .models_outbound import new_webhook_secret

        endpoint = services.webhook_endpoint_update(network=self.network, endpoint=self.get_object(),
                                                    actor=request.user, secret=new_webhook_secret())
        return Response(WebhookEndpointCreatedSerializer(endpoint).data)


class WebhookEventTypesView(TenantGenericAPIView):
    """The event types a webhook endpoint may subscribe to (`events`), each with a description, who receives it
    and an example body. Deliveries are signed with `X-Signature` and the Standard Webhooks headers."""

    model = WebhookEndpoint  # what subscribes to these types (the view reads no rows)
    serializer_class = WebhookEventTypeSerializer
    roles = ALL_ROLES
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses=WebhookEventTypeSerializer(many=True))
    def get(self, request):
        return Response(WebhookEventTypeSerializer(catalogue(), many=True).data)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The log of webhook and postback deliveries (each attempt's status code, latency and body excerpt)."""

    model = Delivery
    roles = ALL_ROLES
    filterset_class = selectors.DeliveryFilter

    def scope_queryset(self, queryset):
        queryset = queryset.visible_to(self.membership)
        return queryset.prefetch_related("attempt_log") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        delivery = delivery_resend(network=self.network, delivery=self.get_object(), actor=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class _AffiliateSelf(TenantGenericAPIView):
    model = Affiliate
    serializer_class = PostbackSerializer
    roles = frozenset({Role.AFFILIATE})

    def _affiliate(self) -> Affiliate:
        affiliate = self.get_queryset().filter(membership=self.membership).first()
        if affiliate is None:
            raise PermissionDenied("This key has no affiliate profile.")
        return affiliate


class PostbackView(_AffiliateSelf):
    """The affiliate's own postback URL template, fired for its conversions (see `macros`)."""

    @extend_schema(responses=PostbackSerializer)
    def get(self, request):
        return Response(PostbackSerializer(postback_representation(self._affiliate())).data)

    @extend_schema(request=PostbackSerializer, responses=PostbackSerializer)
    def put(self, request):
        data = PostbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        affiliate = services.affiliate_postback_set(network=self.network, affiliate=self._affiliate(),
                                                    template=data.validated_data["postback_url"],
                                                    events=data.validated_data.get("events"), actor=request.user)
        return Response(PostbackSerializer(postback_representation(affiliate)).data)


class PostbackTestView(_AffiliateSelf):
    """Fire the postback URL once with sample values, now (one attempt, not retried)."""

    @extend_schema(request=None, responses={202: DeliverySerializer, 400: OpenApiResponse(description="No URL set")})
    def post(self, request):
        # One attempt, made now: the delivery comes back with its outcome (succeeded or failed, never retried).
        attempt = services.affiliate_postback_send_test(network=self.network, affiliate=self._affiliate())
        return Response(DeliverySerializer(Delivery.objects.get(network=self.network, pk=attempt.delivery_id)).data,
                        status=status.HTTP_202_ACCEPTED)
