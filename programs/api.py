"""Programs API: programs and rules, applications and decisions, tracking links, creatives, coupons."""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core import export
from core.filters import IdFilter
from core.inputs import JSONParser
from network.models import Advertiser, Affiliate, Role
from network.permissions import ALL_ROLES, OPERATORS
from network.tenancy import TenantViewSet

from . import selectors, services
from .models import CommissionRule, CouponCode, Creative, Partnership, Program, TrackingLink
from .serializers import (
    CouponCreateSerializer,
    CouponSerializer,
    CreativeSerializer,
    CreativeWriteSerializer,
    DecisionSerializer,
    InviteSerializer,
    LinkCreateSerializer,
    LinkSerializer,
    PartnershipCapsSerializer,
    PartnershipSerializer,
    ProgramSerializer,
    ProgramWriteSerializer,
    caps_checked,
)

CREATIVE_BODY = {"multipart/form-data": CreativeWriteSerializer, "application/json": CreativeWriteSerializer}
MANAGERS = OPERATORS | {Role.ADVERTISER}
AFFILIATES = frozenset({Role.AFFILIATE})


class ProgramFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Program
        fields = ["status", "visibility", "approval", "advertiser", "currency"]


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Affiliates see the marketplace (active public programs) and their own programs; advertisers their own;
    operators all of the network."""

    model = Program
    serializer_class = ProgramSerializer
    filterset_class = ProgramFilter
    roles = ALL_ROLES
    action_roles = {"create": MANAGERS, "partial_update": MANAGERS, "invite": MANAGERS, "apply": AFFILIATES}

    def scope_queryset(self, queryset):
        visible = selectors.programs_visible_to(network=self.network, membership=self.membership)
        rules = Prefetch("rules", queryset=CommissionRule.objects.select_related("group").order_by("id"))
        return (queryset & visible).select_related("advertiser", "network").prefetch_related(rules)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False) or "membership" not in context:
            return context
        if self.role == Role.AFFILIATE:
            rows = Partnership.objects.for_network(self.network).filter(affiliate=self.membership.party)
            context["partnerships"] = {p.program_id: p for p in rows}
        return context

    def _advertiser_for_create(self, data) -> Advertiser:
        if self.role == Role.ADVERTISER:
            return self.membership.party
        advertiser = Advertiser.objects.for_network(self.network).filter(pk=data.get("advertiser")).first()
        if advertiser is None:
            raise ValidationError({"advertiser": ["Operators name the advertiser (an id in this network)."]})
        return advertiser

    def _render(self, program, code=status.HTTP_200_OK):
        program = self.get_queryset().get(pk=program.pk)
        return Response(self.get_serializer(program).data, status=code)

    @extend_schema(request=ProgramWriteSerializer, responses={201: ProgramSerializer})
    def create(self, request):
        data = ProgramWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        advertiser = self._advertiser_for_create(fields)
        fields.pop("advertiser", None)
        fields.setdefault("currency", self.network.default_currency)
        program = services.program_create(network=self.network, advertiser=advertiser, actor=request.user, **fields)
        return self._render(program, status.HTTP_201_CREATED)

    @extend_schema(request=ProgramWriteSerializer, responses=ProgramSerializer,
                   description="Change settings; `rules` given here are added (the newest rule for the same event "
                   "and target wins).")
    def partial_update(self, request, pk=None):
        program = self.get_object()
        data = ProgramWriteSerializer(program, data=request.data, partial=True,
                                      context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "advertiser" in fields:
            raise ValidationError({"advertiser": ["A program cannot move to another advertiser."]})
        program = services.program_update(network=self.network, program=program, actor=request.user, **fields)
        return self._render(program)

    @extend_schema(request=None, responses={200: PartnershipSerializer, 201: PartnershipSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Join the program: approved at once when its approval is automatic, else pending; accepts an invitation."""
        program = self.get_object()
        existed = Partnership.objects.filter(network=self.network, program=program,
                                              affiliate=self.membership.party).exists()
        partnership = services.partnership_apply(network=self.network, program=program,
                                                 affiliate=self.membership.party, actor=request.user)
        body = PartnershipSerializer(partnership, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request=InviteSerializer, responses={201: PartnershipSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """Invite an affiliate (the way into an invite-only program); it accepts by applying."""
        program = self.get_object()
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        affiliate = Affiliate.objects.for_network(self.network).filter(pk=data.validated_data["affiliate"]).first()
        if affiliate is None:
            raise ValidationError({"affiliate": ["Unknown affiliate."]})
        partnership = services.partnership_invite(network=self.network, program=program, affiliate=affiliate,
                                                  actor=request.user)
        body = PartnershipSerializer(partnership, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


PARTNERSHIP_CSV = (
    export.number("id"), export.number("program"), export.text("program_name", "program__name"),
    export.number("affiliate"), export.text("affiliate_name", "affiliate__name"), export.text("status"),
    export.time("applied_at"), export.time("decided_at"), export.text("decided_by", "decided_by__email"),
    export.computed("invited", ("invited_at",), lambda invited_at: invited_at is not None, kind="flag"),
    export.time("invited_at"), export.text("note"),
)


class PartnershipViewSet(export.CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Affiliates see their own; advertisers those in their programs (and decide them); operators all."""

    model = Partnership
    csv_name = "partnerships"
    serializer_class = PartnershipSerializer
    filterset_fields = ["status", "program", "affiliate"]
    roles = ALL_ROLES
    action_roles = {"approve": MANAGERS, "reject": MANAGERS, "suspend": MANAGERS, "partial_update": MANAGERS}

    def scope_queryset(self, queryset):
        visible = selectors.partnerships_visible_to(network=self.network, membership=self.membership)
        # `&` keeps the left side's select_related only, so it is named here.
        return (queryset & visible).select_related("program__network", "affiliate", "decided_by")

    @extend_schema(request=PartnershipCapsSerializer, responses=PartnershipSerializer,
                   description="Set the partnership's own caps, which replace the program's for this affiliate's "
                   "conversions (`{\"caps\": null}`: the program's caps apply again).")
    def partial_update(self, request, pk=None):
        partnership = self.get_object()
        data = PartnershipCapsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "caps" not in data.validated_data:  # a PATCH changes what it names: nothing here
            return Response(self.get_serializer(self.get_queryset().get(pk=partnership.pk)).data)
        value = caps_checked(data.validated_data["caps"], partnership.program.currency)
        partnership = services.partnership_caps_set(network=self.network, partnership=partnership, caps_value=value,
                                                    actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=partnership.pk)).data)

    def get_csv_columns(self):
        if self.role == Role.AFFILIATE:  # affiliates are not shown the advertiser's users (PartnershipSerializer)
            return [column for column in PARTNERSHIP_CSV if column.name != "decided_by"]
        return list(PARTNERSHIP_CSV)

    def _decide(self, request, new_status):
        partnership = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partnership = services.partnership_decide(network=self.network, partnership=partnership, status=new_status,
                                                  actor=request.user, note=data.validated_data.get("note", ""))
        return Response(self.get_serializer(partnership).data)

    @extend_schema(request=DecisionSerializer, responses=PartnershipSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Pending -> approved."""
        return self._decide(request, Partnership.Status.APPROVED)

    @extend_schema(request=DecisionSerializer, responses=PartnershipSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Pending -> rejected (final: the affiliate cannot apply again)."""
        return self._decide(request, Partnership.Status.REJECTED)

    @extend_schema(request=DecisionSerializer, responses=PartnershipSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Approved -> suspended."""
        return self._decide(request, Partnership.Status.SUSPENDED)


class LinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Affiliates create and list their tracking links; advertisers see those into their programs."""

    model = TrackingLink
    serializer_class = LinkSerializer
    filterset_fields = ["program", "partnership", "archived", "sub1"]
    roles = ALL_ROLES
    action_roles = {"create": AFFILIATES, "archive": AFFILIATES | OPERATORS}

    def scope_queryset(self, queryset):
        return queryset & selectors.links_visible_to(network=self.network, membership=self.membership)

    @extend_schema(request=LinkCreateSerializer, responses={201: LinkSerializer})
    def create(self, request):
        data = LinkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        programs = selectors.programs_visible_to(network=self.network, membership=self.membership)
        partnership = Partnership.objects.filter(
            network=self.network, program__in=programs, program_id=fields["program"], affiliate=self.membership.party
        ).select_related("program").first()
        if partnership is None:
            if not programs.filter(pk=fields["program"]).exists():
                raise ValidationError({"program": ["Unknown program."]})
            raise ValidationError({"program": ["Apply to this program first; links need an approved partnership."]})
        link = services.tracking_link_create(
            network=self.network, partnership=partnership, destination_url=fields.get("url", ""),
            subs={k: fields.get(k, "") for k in services.SUB_FIELDS}, actor=request.user,
        )
        return Response(LinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=LinkSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Stop a link: its clicks then get the program's fallback."""
        link = services.tracking_link_archive(network=self.network, link=self.get_object(), actor=request.user)
        return Response(LinkSerializer(link).data)


class CreativeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Affiliates get the active creatives of programs they are approved in, rendered with their own tracking
    URL; advertisers manage their programs' creatives (banners upload as multipart/form-data)."""

    model = Creative
    serializer_class = CreativeSerializer
    filterset_fields = ["program", "kind", "is_active"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    roles = ALL_ROLES
    action_roles = {"create": MANAGERS, "partial_update": MANAGERS}

    def scope_queryset(self, queryset):
        visible = selectors.creatives_visible_to(network=self.network, membership=self.membership)
        return (queryset & visible).select_related("program")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False) or "membership" not in context:
            return context
        if self.role == Role.AFFILIATE:
            context["tracking_urls"] = self._affiliate_urls()
        return context

    def _affiliate_urls(self) -> dict[int, str]:
        """program id -> the URL to render with: `?link=<id>` (one of the affiliate's links), else the plain link."""
        partnerships = Partnership.objects.for_network(self.network).filter(
            affiliate=self.membership.party, status=Partnership.Status.APPROVED
        ).select_related("program")
        link_id = self.request.query_params.get("link")
        chosen = None
        if link_id:
            if not link_id.isdigit() or len(link_id) > 18:
                raise ValidationError({"link": ["A link id."]})
            chosen = selectors.links_visible_to(network=self.network, membership=self.membership).filter(
                pk=int(link_id), archived=False).first()
            if chosen is None:
                raise ValidationError({"link": ["Unknown link."]})
        program_id = self.request.query_params.get("program")
        urls = {}
        for partnership in partnerships:
            if program_id and str(partnership.program_id) != program_id:
                continue
            if chosen is not None and chosen.partnership_id == partnership.pk:
                urls[partnership.program_id] = selectors.link_url(chosen)
            elif partnership.program.status == Program.Status.ACTIVE:
                link = services.tracking_link_default(network=self.network, partnership=partnership)
                urls[partnership.program_id] = selectors.link_url(link)
            elif link := selectors.default_link_for(partnership):  # paused: no new links, but show the one it has
                urls[partnership.program_id] = selectors.link_url(link)
        return urls

    @extend_schema(parameters=[OpenApiParameter("link", int, description="Affiliates: render with this link.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _program(self, program_id):
        program = selectors.programs_visible_to(network=self.network, membership=self.membership).filter(
            pk=program_id).first()
        if program is None:
            raise ValidationError({"program": ["Unknown program."]})
        return program

    @extend_schema(request=CREATIVE_BODY,
                   responses={201: CreativeSerializer})
    def create(self, request):
        data = CreativeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        program = self._program(fields.pop("program"))
        creative = services.creative_create(network=self.network, program=program, actor=request.user, **fields)
        return Response(self.get_serializer(creative).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CREATIVE_BODY,
                   responses=CreativeSerializer)
    def partial_update(self, request, pk=None):
        creative = self.get_object()
        data = CreativeWriteSerializer(creative, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "program" in fields and fields.pop("program") != creative.program_id:
            raise ValidationError({"program": ["A creative cannot move to another program."]})
        creative = services.creative_update(network=self.network, creative=creative, actor=request.user, **fields)
        return Response(self.get_serializer(creative).data)


class CouponFilter(django_filters.FilterSet):
    program = IdFilter(field_name="partnership__program_id")
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")

    class Meta:
        model = CouponCode
        fields = ["partnership", "is_active"]


class CouponViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Advertisers assign coupon codes to partnerships in their programs; affiliates read theirs."""

    model = CouponCode
    serializer_class = CouponSerializer
    filterset_class = CouponFilter
    roles = ALL_ROLES
    action_roles = {"create": MANAGERS, "deactivate": MANAGERS}

    def scope_queryset(self, queryset):
        visible = selectors.coupons_visible_to(network=self.network, membership=self.membership)
        return (queryset & visible).select_related("partnership")

    @extend_schema(request=CouponCreateSerializer, responses={201: CouponSerializer})
    def create(self, request):
        data = CouponCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partnership = selectors.partnerships_visible_to(network=self.network, membership=self.membership).filter(
            pk=data.validated_data["partnership"]).first()
        if partnership is None:
            raise ValidationError({"partnership": ["Unknown partnership."]})
        coupon = services.coupon_create(network=self.network, partnership=partnership, actor=request.user,
                                        code=data.validated_data["code"],
                                        description=data.validated_data.get("description", ""))
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CouponSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The code stops attributing orders; it stays reserved in the network."""
        coupon = services.coupon_deactivate(network=self.network, coupon=self.get_object(), actor=request.user)
        return Response(CouponSerializer(coupon).data)
