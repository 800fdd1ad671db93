"""API of branded tracking domains: `/api/v1/tracking-domains` (list, add, read, verify, delete)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from . import domains
from .models import Advertiser, Role, TrackingDomain
from .permissions import OPERATORS
from .tenancy import TenantViewSet

ADVERTISER_OR_OPERATOR = OPERATORS | {Role.ADVERTISER}


class TrackingDomainSerializer(serializers.ModelSerializer):
    cname_target = serializers.SerializerMethodField(help_text="Point the domain's CNAME record here.")
    verified = serializers.BooleanField(read_only=True, help_text="DNS was checked: links are built on it.")
    challenge_name = serializers.SerializerMethodField(
        help_text="The name of the TXT record that proves the domain is yours: _affiliate-verify.<domain>.")
    challenge_token = serializers.CharField(read_only=True, help_text="The value that TXT record must carry.")
    checked_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                           help_text="The last DNS check (verify, or the daily re-check), UTC.")
    check_error = serializers.CharField(read_only=True, help_text="What the last check found wrong (empty: passed).")
    failed_checks = serializers.IntegerField(
        read_only=True, help_text="Failed daily re-checks in a row of a verified domain; at the network's limit "
        "(3 by default) it is unverified and its owner e-mailed.")

    class Meta:
        model = TrackingDomain
        fields = ["id", "domain", "cname_target", "challenge_name", "challenge_token", "verified", "verified_at",
                  "checked_at", "check_error", "failed_checks", "advertiser", "created_at"]
        read_only_fields = fields

    def get_cname_target(self, row) -> str:
        return domains.cname_target()

    def get_challenge_name(self, row) -> str:
        return domains.challenge_name(row.domain)


HOST_NAME_PATTERN = (r"^(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                     r"(?:[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]|xn--[A-Za-z0-9-]{1,59})\.?$")


@extend_schema_field({"type": "string", "pattern": HOST_NAME_PATTERN, "maxLength": 253})
class HostNameField(serializers.CharField):
    """The schema documents the shape (labels, a dot, a top-level domain with a letter); the service refuses what
    does not fit it with a message saying why, and also the platform's own hosts and names another network holds."""


class TrackingDomainCreateSerializer(serializers.Serializer):
    domain = HostNameField(max_length=300, help_text="A host name, e.g. trk.example.com (no scheme, path or port; an "
                           "internationalized name in its punycode form).")
    advertiser = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text="Operators: the advertiser whose programs use it (empty: the whole network). Advertisers add "
        "their own (when the network allows it).")


class TrackingDomainViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Operators manage the network's tracking domains; advertisers their own, when the network lets them."""

    model = TrackingDomain
    serializer_class = TrackingDomainSerializer
    roles = ADVERTISER_OR_OPERATOR
    filterset_fields = ["advertiser"]

    def scope_queryset(self, queryset):
        return queryset.visible_to(self.membership).select_related("advertiser")

    def _may_change(self):
        if self.role == Role.ADVERTISER and not self.network.advertiser_tracking_domains:
            raise PermissionDenied("This network does not let advertisers add tracking domains.")

    @extend_schema(request=TrackingDomainCreateSerializer, responses={201: TrackingDomainSerializer},
                   description="Add a domain; point its CNAME record to the answer's cname_target, then verify it.")
    def create(self, request):
        self._may_change()
        data = TrackingDomainCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        advertiser = None
        if self.role == Role.ADVERTISER:
            advertiser = self.membership.party
            if advertiser is None:
                raise PermissionDenied("This key has no advertiser profile.")
        elif data.validated_data.get("advertiser") is not None:
            advertiser = Advertiser.objects.for_network(self.network).filter(
                pk=data.validated_data["advertiser"]).first()
            if advertiser is None:
                raise serializers.ValidationError({"advertiser": ["Unknown advertiser."]})
        row = domains.tracking_domain_add(network=self.network, domain=data.validated_data["domain"],
                                          advertiser=advertiser, actor=request.user)
        return Response(TrackingDomainSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TrackingDomainSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Check that the domain resolves to the CNAME target and that its TXT record `challenge_name` carries
        `challenge_token`; from then on the network's links use it. A 400's `detail` says what is missing (what the
        name resolves to instead, the TXT record to add) or that another network verified it first."""
        row = self.get_object()
        self._may_change()
        domains.tracking_domain_verify(network=self.network, tracking_domain=row, actor=request.user)
        return Response(TrackingDomainSerializer(row).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        row = self.get_object()
        self._may_change()
        domains.tracking_domain_delete(network=self.network, tracking_domain=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
