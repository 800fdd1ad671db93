"""Tenancy API: who am I, parties, partner groups, API keys, announcements."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core import export

from . import selectors, services
from .models import Advertiser, Affiliate, Announcement, ApiKey, PartnerGroup, PartyStatus, Role
from .permissions import ALL_ROLES, OPERATORS
from .serializers import (
    AdvertiserSerializer,
    AffiliateCreateSerializer,
    AffiliateSerializer,
    AffiliateUpdateSerializer,
    AnnouncementSerializer,
    ApiKeyCreatedSerializer,
    ApiKeySerializer,
    MeSerializer,
    NetworkSettingsSerializer,
    PartnerGroupAssignedSerializer,
    PartnerGroupAssignSerializer,
    PartnerGroupSerializer,
    PartnerGroupWriteSerializer,
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


class NetworkSettingsView(TenantGenericAPIView):
    """The network's settings for its operators: read them all, change `is_public` and
    `affiliate_approval_required` (the rest is changed on the settings page)."""

    serializer_class = NetworkSettingsSerializer
    roles = OPERATORS

    def get(self, request):
        return Response(NetworkSettingsSerializer(self.network).data)

    def patch(self, request):
        data = NetworkSettingsSerializer(self.network, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {name: value for name, value in data.validated_data.items()
                   if name in services.NETWORK_API_SETTINGS}
        network = services.network_settings_update(network=self.network, actor=request.user, **changes)
        return Response(NetworkSettingsSerializer(network).data)


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


def _errors(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}


def _group_or_400(network, group_id):
    """(group or None, error response or None) for a group id of a body: another network's group is unknown."""
    if group_id is None:
        return None, None
    group = PartnerGroup.objects.for_network(network).filter(pk=group_id).first()
    if group is None:
        return None, Response({"group": ["Unknown partner group."]}, status=status.HTTP_400_BAD_REQUEST)
    return group, None


class AffiliateViewSet(export.CsvExportMixin, mixins.UpdateModelMixin, _PartyViewSet):
    model = Affiliate
    csv_name = "affiliates"
    csv_columns = (export.number("id"), export.text("name"), export.text("email"), export.text("status"),
                   export.number("referred_by"), export.number("group"), export.time("created_at"))
    serializer_class = AffiliateSerializer
    filterset_fields = ["status", "group"]
    action_roles = {**_PartyViewSet.action_roles, "update": OPERATORS, "partial_update": OPERATORS}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scope_queryset(self, queryset):
        return super().scope_queryset(queryset).select_related("group")

    @extend_schema(request=AffiliateUpdateSerializer, responses=AffiliateSerializer,
                   description="Move the affiliate to a partner group (`null`: no group); its next conversions "
                   "earn by that group's rules.")
    def partial_update(self, request, pk=None):
        affiliate = self.get_object()
        data = AffiliateUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "group" in data.validated_data:
            group, error = _group_or_400(self.network, data.validated_data["group"])
            if error is not None:
                return error
            services.partner_group_assign(network=self.network, group=group, affiliates=[affiliate],
                                          actor=request.user)
        affiliate = self.get_queryset().select_related("group").get(pk=affiliate.pk)
        return Response(AffiliateSerializer(affiliate).data)

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
        group, error = _group_or_400(self.network, data.validated_data.get("group"))
        if error is not None:
            return error
        affiliate, issued = services.affiliate_create(
            network=self.network,
            name=data.validated_data["name"],
            email=data.validated_data["email"],
            referred_by=referred_by,
            actor=request.user,
        )
        if group is not None:
            services.partner_group_assign(network=self.network, group=group, affiliates=[affiliate],
                                          actor=request.user)
        body = {"id": affiliate.pk, "name": affiliate.name, "email": affiliate.email, "api_key": issued.raw}
        return Response(body, status=status.HTTP_201_CREATED)


class PartnerGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The network's partner groups. Operators create, rename and delete them; operators and advertisers read them
    and put affiliates in them (an advertiser: the affiliates partnered in its programs)."""

    model = PartnerGroup
    serializer_class = PartnerGroupSerializer
    roles = OPERATORS | {Role.ADVERTISER}
    action_roles = {"create": OPERATORS, "update": OPERATORS, "partial_update": OPERATORS, "destroy": OPERATORS}

    def scope_queryset(self, queryset):
        return selectors.partner_groups(network=self.network, queryset=queryset)

    @extend_schema(request=PartnerGroupWriteSerializer, responses={201: PartnerGroupSerializer})
    def create(self, request):
        data = PartnerGroupWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            group = services.partner_group_create(network=self.network, actor=request.user, **data.validated_data)
        except ValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(self.get_queryset().get(pk=group.pk)).data, status=status.HTTP_201_CREATED)

    def _update(self, request, partial):
        group = self.get_object()
        data = PartnerGroupWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        try:
            services.partner_group_update(network=self.network, group=group, actor=request.user,
                                          **data.validated_data)
        except ValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(self.get_queryset().get(pk=group.pk)).data)

    @extend_schema(request=PartnerGroupWriteSerializer, responses=PartnerGroupSerializer)
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(request=PartnerGroupWriteSerializer, responses=PartnerGroupSerializer)
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(request=None, responses={204: None},
                   description="Delete a group no commission rule targets (400 otherwise); its affiliates leave it.")
    def destroy(self, request, pk=None):
        group = self.get_object()
        try:
            services.partner_group_delete(network=self.network, group=group, actor=request.user)
        except ValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PartnerGroupAssignSerializer, responses=PartnerGroupAssignedSerializer,
                   description="Bulk assignment: put these affiliates in the group (they leave their former group). "
                   "Any unknown id (another network's, or for an advertiser one not partnered in its programs): 400, "
                   "nothing changed.")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        group = self.get_object()
        data = PartnerGroupAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(data.validated_data["affiliates"]))
        affiliates = list(Affiliate.objects.visible_to(self.membership).filter(pk__in=ids))
        unknown = sorted(set(ids) - {affiliate.pk for affiliate in affiliates})
        if unknown:
            return Response({"affiliates": [f"Unknown affiliate: {', '.join(map(str, unknown))}."]},
                            status=status.HTTP_400_BAD_REQUEST)
        changed = services.partner_group_assign(network=self.network, group=group, affiliates=affiliates,
                                                actor=request.user)
        return Response({"group": group.pk, "affiliates": ids, "changed": changed})


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
