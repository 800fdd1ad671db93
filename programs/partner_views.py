"""The partner portal's program pages: marketplace (search, apply), my programs (terms, links, coupons),
the link builder (deep links, sub IDs, archive) and creatives rendered with the affiliate's own link."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View

from core.money import format_amount, parse_amount
from network.models import Role
from network.views import PartnerPage
from network.web import NetworkPageMixin, is_htmx, paginate
from reports.links import DAYS as STATS_DAYS
from reports.links import link_figures, sub_id_figures

from . import caps, selectors, services
from .models import SUB_FIELDS, CommissionRule, Partnership, Program, tier_threshold
from .serializers import render_creative

AFFILIATE = frozenset({Role.AFFILIATE})


def _first_error(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(message for messages_ in exc.message_dict.values() for message in messages_)
    return " ".join(exc.messages)


def _rate(rule: CommissionRule, value, currency: str) -> str:
    if rule.kind == CommissionRule.Kind.PERCENT:
        return f"{parse_amount(value).normalize():f} %"
    return format_amount(parse_amount(value), currency)


def payout_summary(rules: list[CommissionRule], currency: str) -> list[str]:
    """'8 % per sale (up to 12 % with tiers)', '€2.50 per lead': what a program pays this affiliate."""
    lines = []
    newest: dict[tuple, CommissionRule] = {}
    for rule in rules:  # among rules for the same event and target the newest wins (commissions.rules.rule_for)
        key = (rule.event, rule.affiliate_id, rule.group_id)
        if key not in newest or rule.pk > newest[key].pk:
            newest[key] = rule
    for rule in sorted(newest.values(), key=lambda r: (r.event, r.affiliate_id is not None, r.group_id or 0)):
        # Whole sentences in the reader's language (the event's own name is translated by its choices).
        text = _("%(rate)s per %(event)s") % {"rate": _rate(rule, rule.payout, currency),
                                              "event": rule.get_event_display().lower()}
        if rule.tiers:
            top = max(rule.tiers, key=tier_threshold)
            text = _("%(terms)s (up to %(rate)s with tiers)") % {"terms": text,
                                                                 "rate": _rate(rule, top["payout"], currency)}
        if rule.recurring_months is None:
            text = _("%(terms)s, recurring") % {"terms": text}
        elif rule.recurring_months:
            text = ngettext("%(terms)s, recurring for %(months)d month", "%(terms)s, recurring for %(months)d months",
                            rule.recurring_months) % {"terms": text, "months": rule.recurring_months}
        if rule.affiliate_id:
            text = _("%(terms)s — your own rate") % {"terms": text}
        elif rule.group_id:
            text = _("%(terms)s — %(group)s partners") % {"terms": text, "group": rule.group.name}
        lines.append(text)
    return lines


class ProgramsPartnerPage(PartnerPage):
    def partnerships(self):
        return selectors.partnerships_visible_to(network=self.network, membership=self.membership)

    def summary(self, program: Program) -> list[str]:
        return payout_summary(selectors.rules_visible_to(program=program, membership=self.membership),
                              program.currency)


# --- marketplace -------------------------------------------------------------------------------------
class MarketplaceView(ProgramsPartnerPage):
    template_name = "partner/programs_marketplace.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "").strip()[:100]
        programs = selectors.programs_visible_to(network=self.network, membership=self.membership).filter(
            status=Program.Status.ACTIVE, visibility=Program.Visibility.PUBLIC
        ).select_related("advertiser").prefetch_related("rules__group").order_by("name", "id")
        if q:
            programs = programs.filter(Q(name__icontains=q) | Q(description__icontains=q))
        page = paginate(self.request, programs)
        mine = {p.program_id: p for p in self.partnerships().filter(program__in=[p.pk for p in page.object_list])}
        rows = [{"program": p, "partnership": mine.get(p.pk), "summary": self.summary(p)} for p in page.object_list]
        return super().get_context_data(page=page, rows=rows, q=q, **kwargs)


class ApplyView(NetworkPageMixin, View):
    """POST: apply to a marketplace program (htmx swaps the program's status cell)."""

    roles = AFFILIATE

    def post(self, request, pk):
        program = get_object_or_404(
            selectors.programs_visible_to(network=self.network, membership=self.membership), pk=pk)
        error = None
        try:
            partnership = services.partnership_apply(network=self.network, program=program, affiliate=self.party,
                                                     actor=request.user)
        except ValidationError as exc:
            error = _first_error(exc)
            partnership = Partnership.objects.for_network(self.network).filter(
                program=program, affiliate=self.party).first()
        if is_htmx(request):
            return render(request, "partner/_programs_apply.html",
                          {"program": program, "partnership": partnership, "error": error},
                          status=400 if error else 200)
        if error:
            messages.error(request, error)
        elif partnership.status == Partnership.Status.APPROVED:
            messages.success(request, _("You are now a partner of %(program)s: build your first link.") % {
                "program": program.name})
        else:
            messages.success(request, _("You applied to %(program)s; the advertiser will decide soon.") % {
                "program": program.name})
        return redirect("partner_marketplace")


# --- my programs ---------------------------------------------------------------------------------------
class MyProgramsView(ProgramsPartnerPage):
    template_name = "partner/programs_mine.html"

    def get_context_data(self, **kwargs):
        partnerships = self.partnerships().select_related("program__advertiser", "program__network").prefetch_related(
            "coupons", "program__rules__group").order_by("-applied_at", "-id")
        status = self.request.GET.get("status", "")
        if status in Partnership.Status.values:
            partnerships = partnerships.filter(status=status)
        page = paginate(self.request, partnerships)
        links = {}
        for link in selectors.links_visible_to(network=self.network, membership=self.membership).filter(
                partnership__in=[p.pk for p in page.object_list], archived=False).order_by("-id"):
            links.setdefault(link.partnership_id, []).append(link)
        rows = [{"partnership": p, "program": p.program, "summary": self.summary(p.program),
                 "caps": caps.caps_status(program=p.program, partnership=p),
                 "links": [(link, selectors.link_url(link)) for link in links.get(p.pk, [])],
                 "coupons": [c for c in p.coupons.all() if c.is_active]} for p in page.object_list]
        return super().get_context_data(page=page, rows=rows, status=status, statuses=Partnership.Status.choices,
                                        **kwargs)


# --- link builder ---------------------------------------------------------------------------------------
class PartnershipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.program.name


class LinkForm(forms.Form):
    program = PartnershipChoiceField(queryset=Partnership.objects.none(), label=_("Program"),
                                     empty_label=_("Pick a program"),
                                     help_text=_("Programs you are an approved partner of."))
    url = forms.CharField(label=_("Deep link (optional)"), required=False, max_length=2000,
                          help_text=_("A page on the program's site; empty = the program's landing page."))
    sub1 = forms.CharField(label=_("Sub ID 1"), required=False, max_length=255)
    sub2 = forms.CharField(label=_("Sub ID 2"), required=False, max_length=255)
    sub3 = forms.CharField(label=_("Sub ID 3"), required=False, max_length=255)
    sub4 = forms.CharField(label=_("Sub ID 4"), required=False, max_length=255)
    sub5 = forms.CharField(label=_("Sub ID 5"), required=False, max_length=255)

    def __init__(self, *args, partnerships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = partnerships
        self.fields["url"].widget.attrs["placeholder"] = "https://"


class LinkBuilderView(ProgramsPartnerPage):
    template_name = "partner/programs_links.html"

    def approved(self):
        return self.partnerships().filter(status=Partnership.Status.APPROVED,
                                          program__status=Program.Status.ACTIVE).order_by("program__name")

    def get_context_data(self, form=None, created=None, **kwargs):
        archived = self.request.GET.get("archived") == "1"
        links = selectors.links_visible_to(network=self.network, membership=self.membership).filter(
            archived=archived).select_related("program").order_by("-id")
        program = self.request.GET.get("program", "")
        if program.isdigit():
            links = links.filter(program_id=int(program))
        page = paginate(self.request, links)
        approved = list(self.approved().select_related("program"))
        initial = {}
        if program.isdigit():
            initial["program"] = next((p for p in approved if p.program_id == int(program)), None)
        elif len(approved) == 1:  # one program: nothing to pick
            initial["program"] = approved[0]
        figures = link_figures(network=self.network, links=page.object_list)
        sub = self.request.GET.get("by", "sub1")
        sub = sub if sub in SUB_FIELDS else "sub1"
        currencies = sorted({p.program.currency for p in approved} | {link.program.currency for link in page})
        return super().get_context_data(
            form=form or LinkForm(partnerships=self.approved(), initial=initial), created=created,
            page=page, rows=[(link, selectors.link_url(link), figures[link.pk]) for link in page.object_list],
            archived=archived, stats_days=STATS_DAYS, sub=sub, subs=SUB_FIELDS,
            sub_tables=sub_id_figures(network=self.network, membership=self.membership, sub=sub,
                                      currencies=currencies), **kwargs)

    def post(self, request, *args, **kwargs):
        form = LinkForm(request.POST, partnerships=self.approved())
        if form.is_valid():
            data = form.cleaned_data
            try:
                link = services.tracking_link_create(
                    network=self.network, partnership=data["program"], destination_url=data["url"].strip(),
                    subs={f"sub{n}": data[f"sub{n}"].strip() for n in range(1, 6)}, actor=request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Link created: %(link_url)s") % {"link_url": selectors.link_url(link)})
                return redirect("partner_links")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LinkArchiveView(NetworkPageMixin, View):
    roles = AFFILIATE

    def post(self, request, pk):
        link = get_object_or_404(
            selectors.links_visible_to(network=self.network, membership=self.membership), pk=pk)
        services.tracking_link_archive(network=self.network, link=link, actor=request.user)
        if is_htmx(request):
            return render(request, "partner/_programs_link_archived.html", {"link": link})
        messages.success(request, _("Link %(code)s archived: it keeps redirecting, but is hidden here.") % {
            "code": link.code})
        return redirect("partner_links")


# --- creatives -------------------------------------------------------------------------------------------
class CreativesView(ProgramsPartnerPage):
    template_name = "partner/programs_creatives.html"

    def get_context_data(self, **kwargs):
        approved = list(self.partnerships().filter(status=Partnership.Status.APPROVED).select_related("program")
                        .order_by("program__name"))
        programs = [p.program for p in approved]
        program = self.request.GET.get("program", "")
        if program.isdigit():
            approved = [p for p in approved if p.program_id == int(program)]
        creatives = selectors.creatives_visible_to(network=self.network, membership=self.membership).filter(
            program_id__in=[p.program_id for p in approved]).order_by("program__name", "id")
        groups = []
        by_program: dict[int, list] = {}
        for creative in creatives:
            by_program.setdefault(creative.program_id, []).append(creative)
        for partnership in approved:
            items = by_program.get(partnership.program_id, [])
            url = self.url_for(partnership) if items else ""
            groups.append({"program": partnership.program, "url": url, "creatives": [
                {"creative": c, "image": self.request.build_absolute_uri(c.image.url) if c.image else "",
                 "code": render_creative(c, url, self.request.build_absolute_uri(c.image.url) if c.image else None)}
                for c in items]})
        return super().get_context_data(groups=groups, program=program, programs=programs, **kwargs)

    def url_for(self, partnership: Partnership) -> str:
        # Reading only: the default link is made when the partnership is approved (programs.services).
        link = selectors.default_link_for(partnership)
        return selectors.link_url(link) if link else ""

