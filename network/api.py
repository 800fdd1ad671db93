"""Tenancy API: who am I, parties, API keys, announcements."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core import export

from . import selectors, services
from .models import Advertiser, Affiliate, Announcement, ApiKey, PartyStatus
from .permissions import ALL_ROLES, OPERATORS
from .serializers import (
    AdvertiserSerializer,
    AffiliateCreateSerializer,
    AffiliateSerializer,
    AnnouncementSerializer,
    ApiKeyCreatedSerializer,
    ApiKeySerializer,
    MeSerializer,
    PartyCreatedSerializer,
    PartyCreateSerializer,
)
from .tenancy import TenantGenericAPIView, TenantViewSet


class MeView(TenantGenericAPIView):
    serializer_class = MeSerializer
    roles = ALL_ROLES

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(MeSerializer.for_membership(self.membership)).data)


class _PartyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Operators manage the network's parties; a party may read itself."""

    action_roles = {"create": OPERATORS, "suspend": OPERATORS, "activate": OPERATORS}
    roles = ALL_ROLES

    def scope_queryset(self, queryset):
        if self.role in OPERATORS:
            return queryset
        return queryset.filter(membership=self.membership)

    def _set_status(self, request, pk, new_status):
        party = self.get_object()
        services.party_set_status(network=self.network, party=party, status=new_status, actor=request.user)
        return Response(self.get_serializer(party).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._set_status(request, pk, PartyStatus.SUSPENDED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._set_status(request, pk, PartyStatus.ACTIVE)


class AdvertiserViewSet(_PartyViewSet):
    model = Advertiser
    serializer_class = AdvertiserSerializer
    filterset_fields = ["status"]

    @extend_schema(request=PartyCreateSerializer, responses={201: PartyCreatedSerializer})
    def create(self, request):
        data = PartyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        advertiser, issued = services.advertiser_create(network=self.network, actor=request.user, **data.validated_data)
        body = {"id": advertiser.pk, "name": advertiser.name, "email": advertiser.email, "api_key": issued.raw}
        return Response(body, status=status.HTTP_201_CREATED)


class AffiliateViewSet(export.CsvExportMixin, _PartyViewSet):
    model = Affiliate
    csv_name = "affiliates"
    csv_columns = (export.number("id"), export.text("name"), export.text("email"), export.text("status"),
                   export.number("referred_by"), export.text("group"), export.time("created_at"))
    serializer_class = AffiliateSerializer
    filterset_fields = ["status", "group"]

    @extend_schema(request=AffiliateCreateSerializer, responses={201: PartyCreatedSerializer})
    def create(self, request):
        data = AffiliateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referred_by = None
        referrer_id = data.validated_data.get("referred_by")
        if referrer_id is not None:
            referred_by = Affiliate.objects.for_network(self.network).filter(pk=referrer_id).first()
            if referred_by is None:
                return Response({"referred_by": ["Unknown affiliate."]}, status=status.HTTP_400_BAD_REQUEST)
        affiliate, issued = services.affiliate_create(
            network=self.network,
            name=data.validated_data["name"],
            email=data.validated_data["email"],
            referred_by=referred_by,
            actor=request.user,
        )
        if data.validated_data.get("group"):
            affiliate.group = data.validated_data["group"]
            affiliate.save(update_fields=["group"])
        body = {"id": affiliate.pk, "name": affiliate.name, "email": affiliate.email, "api_key": issued.raw}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyViewSet(mixins.ListModelMixin, TenantViewSet):
    """A member's own keys: list, create (shown once), revoke."""

    model = ApiKey
    serializer_class = ApiKeySerializer
    roles = ALL_ROLES

    def scope_queryset(self, queryset):
        return queryset.filter(membership=self.membership)

    @extend_schema(request=ApiKeySerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request):
        data = ApiKeySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.api_key_create(membership=self.membership, name=data.validated_data.get("name", "default"))
        services.audit_log_record(network=self.network, actor=request.user, action="api_key.created",
                                  target=issued.api_key)
        body = ApiKeyCreatedSerializer(issued.api_key).data | {"api_key": issued.raw}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        key = get_object_or_404(self.get_queryset(), pk=pk)
        services.api_key_revoke(network=self.network, api_key=key, actor=request.user)
        return Response(ApiKeySerializer(key).data)


class AnnouncementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Announcement
    serializer_class = AnnouncementSerializer
    roles = ALL_ROLES
    action_roles = {"create": OPERATORS}

    def scope_queryset(self, queryset):
        return queryset & selectors.announcements_for(network=self.network, membership=self.membership)

    @extend_schema(request=AnnouncementSerializer, responses={201: AnnouncementSerializer})
    def create(self, request):
        data = AnnouncementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        announcement = services.announcement_create(network=self.network, actor=request.user, **data.validated_data)
        return Response(AnnouncementSerializer(announcement).data, status=status.HTTP_201_CREATED)
