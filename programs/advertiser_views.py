"""The advertiser's program pages: list, create and edit (with rules and tiers), status, creatives, coupons,
invitations and application decisions. Values are validated by the API's serializers and the services, so
the web shows the same errors as the API, next to the fields."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from rest_framework import serializers

from network.i18n import choice_word
from network.models import Affiliate, PartnerGroup, PartyStatus, Role
from network.web import NetworkPageMixin, is_htmx

from . import caps, selectors, services
from .advertiser_forms import (
    CouponForm,
    CreativeForm,
    InviteForm,
    PartnershipCapsForm,
    ProgramForm,
    RuleForm,
    StatusForm,
    errors_to_form,
    rule_errors_to_forms,
    start_api_validation,
)
from .models import CouponCode, Creative, Partnership, Program
from .serializers import (
    CouponCreateSerializer,
    CreativeWriteSerializer,
    PartnershipCapsSerializer,
    ProgramWriteSerializer,
    caps_checked,
    render_creative,
)

MAX_RULE_ROWS = 20


class AdvertiserProgramsMixin(NetworkPageMixin):
    roles = frozenset({Role.ADVERTISER})

    def programs(self):
        """The advertiser's own programs: another advertiser's program is a 404 like another network's."""
        return selectors.programs_visible_to(network=self.network, membership=self.membership)

    def program(self, pk) -> Program:
        return get_object_or_404(self.programs(), pk=pk)

    def partnerships(self):
        return selectors.partnerships_visible_to(network=self.network, membership=self.membership)

    def affiliates(self):
        return self.scoped(Affiliate).filter(status=PartyStatus.ACTIVE).order_by("name")


class ProgramListView(AdvertiserProgramsMixin, TemplateView):
    template_name = "advertiser/programs_list.html"

    def get_context_data(self, **kwargs):
        programs = self.programs().annotate(
            # distinct: the join with the rules repeats each partnership once per rule.
            partners=Count("partnerships", distinct=True,
                           filter=Q(partnerships__status=Partnership.Status.APPROVED)),
            applications=Count("partnerships", distinct=True,
                               filter=Q(partnerships__status=Partnership.Status.PENDING)),
            rule_count=Count("rules", distinct=True),
        ).order_by("status", "name")
        return super().get_context_data(programs=programs, **kwargs)


class ProgramFormView(AdvertiserProgramsMixin, TemplateView):
    """Create (no pk) or edit a program; rules typed in the rule rows are added (on edit the newest rule for an
    event and target replaces the older one)."""

    template_name = "advertiser/programs_form.html"
    program_obj: Program | None = None

    def get_program(self):
        pk = self.kwargs.get("pk")
        return self.program(pk) if pk is not None else None

    def rule_forms(self, data=None) -> list[RuleForm]:
        affiliates, groups = list(self.affiliates()), list(self.scoped(PartnerGroup))
        if data is None:
            count = 1 if self.kwargs.get("pk") else 2
            return [RuleForm(prefix=f"rules-{i}", affiliates=affiliates, groups=groups) for i in range(count)]
        try:
            count = max(0, min(int(data.get("rules-TOTAL_FORMS", "0")), MAX_RULE_ROWS))
        except ValueError:
            count = 0
        return [RuleForm(data, prefix=f"rules-{i}", affiliates=affiliates, groups=groups) for i in range(count)]

    def render_page(self, form, rule_forms, program, status=200, rule_messages=()):
        rules = list(program.rules.select_related("affiliate", "group")) if program else []
        context = self.get_context_data(form=form, rule_forms=rule_forms, program=program,
                                        rule_messages=list(rule_messages), rules=rules)
        return self.render_to_response(context, status=status)

    def get(self, request, *args, **kwargs):
        program = self.get_program()
        if program is not None:
            form = ProgramForm(initial=ProgramForm.initial_for(program), editing=True)
        else:
            form = ProgramForm(initial={"currency": self.network.default_currency})
        return self.render_page(form, self.rule_forms(), program)

    def post(self, request, *args, **kwargs):
        program = self.get_program()
        initial = ProgramForm.initial_for(program) if program else None
        form = ProgramForm(request.POST, initial=initial, editing=program is not None)
        rule_forms = self.rule_forms(request.POST)
        start_api_validation(form, *rule_forms)
        filled = [rule_form for rule_form in rule_forms if not rule_form.is_blank()]
        rules = [rule_form.payload() for rule_form in filled]
        if any(rule is None for rule in rules):
            return self.render_page(form, rule_forms, program, status=400)
        payload = form.payload()
        if rules or program is None:
            payload["rules"] = rules
        context = {"network": self.network, "membership": self.membership}
        serializer = ProgramWriteSerializer(program, data=payload, partial=program is not None, context=context)
        rule_messages = []
        if not serializer.is_valid():
            errors = dict(serializer.errors)
            if "rules" in errors:
                rule_messages = rule_errors_to_forms(filled, errors.pop("rules"))
            errors_to_form(form, errors)
            return self.render_page(form, rule_forms, program, status=400, rule_messages=rule_messages)
        fields = dict(serializer.validated_data)
        try:
            if program is None:
                program = services.program_create(network=self.network, advertiser=self.party, actor=request.user,
                                                  **fields)
                messages.success(request, _("Program “%(program)s” is created.") % {"program": program.name})
            else:
                program = services.program_update(network=self.network, program=program, actor=request.user,
                                                  **fields)
                messages.success(request, _("Program “%(program)s” is saved.") % {"program": program.name})
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.render_page(form, rule_forms, program, status=400)
        return redirect("advertiser_program", pk=program.pk)


class ProgramDetailView(AdvertiserProgramsMixin, TemplateView):
    """A program's settings and rules, status buttons, creatives, coupon codes and invitations."""

    template_name = "advertiser/programs_detail.html"

    def get_context_data(self, creative_form=None, coupon_form=None, invite_form=None, **kwargs):
        program = self.program(self.kwargs["pk"])
        partnerships = self.partnerships().filter(program=program).select_related("affiliate")
        approved = [p for p in partnerships if p.status == Partnership.Status.APPROVED]
        partnered = {p.affiliate_id for p in partnerships}
        creatives = list(program.creatives.order_by("-created_at", "-id"))
        preview = selectors.tracking_url("preview", network_id=program.network_id, advertiser_id=program.advertiser_id)
        for creative in creatives:
            creative.preview = render_creative(creative, preview, creative.image.url if creative.image else None)
        coupons = (CouponCode.objects.for_network(self.network).filter(partnership__program=program)
                   .select_related("partnership__affiliate").order_by("-created_at", "-id"))
        partner_caps = [(p, caps.caps_status(program=program, partnership=p)) for p in partnerships
                        if p.caps is not None]
        return super().get_context_data(
            caps_status=caps.caps_status(program=program), partner_caps=partner_caps,
            approved_partnerships=approved, program=program,
            rules=program.rules.select_related("affiliate", "group").order_by("event", "-id"),
            creatives=creatives, coupons=coupons, partner_count=len(approved),
            creative_form=creative_form or CreativeForm(),
            coupon_form=coupon_form or CouponForm(partnerships=approved),
            invite_form=invite_form or InviteForm(
                affiliates=[a for a in self.affiliates() if a.pk not in partnered]),
            **kwargs)


class PartnershipCapsView(AdvertiserProgramsMixin, TemplateView):
    """A partner's own caps and budget on one program (the API's `PATCH /partnerships/<id>` with `caps`): they
    replace the program's for this partner's conversions; unticked, the program's apply again."""

    template_name = "advertiser/partnership_caps.html"

    def partnership(self) -> Partnership:
        return get_object_or_404(self.partnerships().select_related("program", "affiliate"), pk=self.kwargs["pk"])

    def get_context_data(self, form=None, **kwargs):
        partnership = self.partnership()
        return super().get_context_data(
            partnership=partnership, program=partnership.program,
            form=form or PartnershipCapsForm(initial=PartnershipCapsForm.initial_for(partnership)),
            caps_status=caps.caps_status(program=partnership.program, partnership=partnership), **kwargs)

    def post(self, request, pk):
        partnership = self.partnership()
        form = PartnershipCapsForm(request.POST)
        serializer = PartnershipCapsSerializer(data=form.payload())
        try:
            if not serializer.is_valid():
                raise serializers.ValidationError(serializer.errors)
            value = caps_checked(serializer.validated_data["caps"], partnership.program.currency)
            services.partnership_caps_set(network=self.network, partnership=partnership, caps_value=value,
                                          actor=request.user)
        except (serializers.ValidationError, ValidationError) as exc:
            form.is_valid()
            errors = exc.detail if isinstance(exc, serializers.ValidationError) else exc
            errors_to_form(form, errors.get("caps", errors) if isinstance(errors, dict) else errors)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(request, _("%(partner)s's caps are saved.") % {"partner": partnership.affiliate.name}
                         if value is not None else
                         _("The program's caps apply to %(partner)s again.") % {"partner": partnership.affiliate.name})
        return redirect("advertiser_program", pk=partnership.program_id)


class ProgramStatusView(AdvertiserProgramsMixin, View):
    def post(self, request, pk):
        program = self.program(pk)
        form = StatusForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Pick active, paused or archived."))
            return redirect("advertiser_program", pk=pk)
        try:
            services.program_update(network=self.network, program=program, actor=request.user,
                                    status=form.cleaned_data["status"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The program is %(status)s.") % {
                "status": choice_word(Program.Status, form.cleaned_data["status"])})
        return redirect("advertiser_program", pk=pk)


class CreativeCreateView(ProgramDetailView):
    def post(self, request, pk):
        program = self.program(pk)
        form = CreativeForm(request.POST, request.FILES)
        start_api_validation(form)
        data = {name: request.POST.get(name, "") for name in ("kind", "name", "body")} | {"program": program.pk}
        if request.FILES.get("image"):
            data["image"] = request.FILES["image"]
        serializer = CreativeWriteSerializer(data=data)
        if serializer.is_valid():
            fields = dict(serializer.validated_data)
            fields.pop("program")
            try:
                creative = services.creative_create(network=self.network, program=program, actor=request.user,
                                                    **fields)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Creative “%(creative)s” is added.") % {"creative": creative.name})
                return redirect(reverse("advertiser_program", args=[pk]) + "#creatives")
        else:
            errors_to_form(form, serializer.errors)
        return self.render_to_response(self.get_context_data(creative_form=form), status=400)


class CreativeToggleView(AdvertiserProgramsMixin, View):
    def post(self, request, pk):
        creative = get_object_or_404(Creative.objects.for_network(self.network).filter(program__in=self.programs()),
                                     pk=pk)
        services.creative_update(network=self.network, creative=creative, actor=request.user,
                                 is_active=not creative.is_active)
        text = _("Creative “%(creative)s” is shown.") if creative.is_active else _("Creative “%(creative)s” is hidden.")
        messages.success(request, text % {"creative": creative.name})
        return redirect(reverse("advertiser_program", args=[creative.program_id]) + "#creatives")


class CouponCreateView(ProgramDetailView):
    def post(self, request, pk):
        program = self.program(pk)
        approved = list(self.partnerships().filter(program=program, status=Partnership.Status.APPROVED)
                        .select_related("affiliate"))
        form = CouponForm(request.POST, partnerships=approved)
        start_api_validation(form)
        serializer = CouponCreateSerializer(data={name: request.POST.get(name, "")
                                                  for name in ("partnership", "code", "description")})
        if serializer.is_valid():
            partnership = next((p for p in approved if p.pk == serializer.validated_data["partnership"]), None)
            if partnership is None:
                form.add_error("partnership", _("Choose an approved partner of this program."))
            else:
                try:
                    coupon = services.coupon_create(
                        network=self.network, partnership=partnership, actor=request.user,
                        code=serializer.validated_data["code"],
                        description=serializer.validated_data.get("description", ""))
                except ValidationError as exc:
                    errors_to_form(form, exc)
                else:
                    messages.success(request, _("Coupon %(code)s is assigned to %(affiliate)s.") % {
                        "code": coupon.code, "affiliate": partnership.affiliate.name})
                    return redirect(reverse("advertiser_program", args=[pk]) + "#coupons")
        else:
            errors_to_form(form, serializer.errors)
        return self.render_to_response(self.get_context_data(coupon_form=form), status=400)


class CouponDeactivateView(AdvertiserProgramsMixin, View):
    def post(self, request, pk):
        coupon = get_object_or_404(
            CouponCode.objects.for_network(self.network).filter(partnership__program__in=self.programs()), pk=pk)
        services.coupon_deactivate(network=self.network, coupon=coupon, actor=request.user)
        messages.success(request, _("Coupon %(code)s is deactivated.") % {"code": coupon.code})
        return redirect(reverse("advertiser_program", args=[coupon.partnership.program_id]) + "#coupons")


class InviteView(ProgramDetailView):
    def post(self, request, pk):
        program = self.program(pk)
        affiliates = list(self.affiliates())
        form = InviteForm(request.POST, affiliates=affiliates)
        if form.is_valid():
            affiliate = next(a for a in affiliates if str(a.pk) == form.cleaned_data["affiliate"])
            try:
                services.partnership_invite(network=self.network, program=program, affiliate=affiliate,
                                            actor=request.user)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("%(affiliate)s is invited; they join by accepting.") % {
                    "affiliate": affiliate.name})
                return redirect(reverse("advertiser_program", args=[pk]) + "#invite")
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class PartnershipDecideView(AdvertiserProgramsMixin, View):
    """Approve or reject an application, or suspend a partner (htmx answers the table row)."""

    statuses = {"approve": Partnership.Status.APPROVED, "reject": Partnership.Status.REJECTED,
                "suspend": Partnership.Status.SUSPENDED}

    def post(self, request, pk, verb):
        partnership = get_object_or_404(self.partnerships().select_related("program", "affiliate"), pk=pk)
        error = None
        try:
            partnership = services.partnership_decide(
                network=self.network, partnership=partnership, status=self.statuses[verb], actor=request.user,
                note=request.POST.get("note", "")[:2000])
        except ValidationError as exc:
            error = " ".join(exc.messages)
        if is_htmx(request):
            return render(request, "advertiser/_programs_application_row.html",
                          {"partnership": partnership, "error": error}, status=400 if error else 200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("%(affiliate)s is %(status)s in %(program)s.") % {
                "affiliate": partnership.affiliate.name,
                "status": choice_word(Partnership.Status, partnership.status),
                "program": partnership.program.name})
        return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/advertiser/")
                        else "advertiser_partners")
