"""The network operator's pages (owner, staff): overview with KPIs and chart, advertisers,
affiliates (approval), staff invitations, announcements, network settings (and the progress of the report
figures' rebuild after a time zone change), audit log."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from reports.figures import daily_series, overview_query

from . import accounts, daily, navigation, selectors, services
from .domain_views import TrackingDomainsMixin
from .forms import AnnouncementForm, InviteForm, NetworkSettingsForm, PartnerGroupForm
from .models import Advertiser, Affiliate, AuditLog, DayRebuild, Membership, Network, PartyStatus, Role
from .permissions import OPERATORS
from .web import NetworkPageMixin, is_htmx, paginate


class OperatorPage(NetworkPageMixin, TemplateView):
    roles = OPERATORS


class OperatorDashboardView(OperatorPage):
    template_name = "operator/dashboard.html"

    def get_context_data(self, **kwargs):
        affiliates = self.scoped(Affiliate)
        return super().get_context_data(
            kpis=[
                (_("Advertisers"), self.scoped(Advertiser).filter(status=PartyStatus.ACTIVE).count(),
                 reverse("operator_advertisers")),
                (_("Active affiliates"), affiliates.filter(status=PartyStatus.ACTIVE).count(),
                 reverse("operator_affiliates") + "?status=active"),
                (_("Pending affiliates"), affiliates.filter(status=PartyStatus.PENDING).count(),
                 reverse("operator_affiliates") + "?status=pending"),
                (_("Operators"), self.scoped(Membership).filter(role__in=OPERATORS, is_active=True).count(),
                 reverse("operator_staff")),
            ],
            pending=affiliates.filter(status=PartyStatus.PENDING).order_by("created_at")[:10],
            announcements=selectors.announcements_for(network=self.network, membership=self.membership)[:3],
            widgets=navigation.widgets_for("operator", self),
            **kwargs,
        )


class NewAffiliatesChartView(OperatorPage):
    """JSON for the overview chart: affiliates who joined per day (network's time zone), last 30 days."""

    days = 30

    def get(self, request, *args, **kwargs):
        series = daily_series(overview_query(network=self.network, membership=self.membership, days=self.days),
                              ["new_affiliates"])
        return JsonResponse({
            "label": _("New affiliates"),
            "timezone": self.network.timezone,
            "labels": [day.isoformat() for day in series["days"]],
            "data": series["new_affiliates"],
        })


class PartyListView(OperatorPage):
    """Advertisers or affiliates of the network, filterable by status; operators invite and suspend."""

    model = None
    invite = False

    def get_queryset(self):
        queryset = self.scoped(self.model).select_related("membership__user").order_by("-created_at", "-id")
        status = self.request.GET.get("status", "")
        if status in PartyStatus.values:
            queryset = queryset.filter(status=status)
        query = self.request.GET.get("q", "").strip()
        if query:
            queryset = queryset.filter(name__icontains=query) | queryset.filter(email__icontains=query)
        return queryset

    def get_context_data(self, form=None, **kwargs):
        return super().get_context_data(
            page=paginate(self.request, self.get_queryset()),
            statuses=PartyStatus.choices,
            status=self.request.GET.get("status", ""),
            q=self.request.GET.get("q", ""),
            form=form or (InviteForm(network=self.network) if self.invite else None),
            kind=self.model._meta.model_name,
            **kwargs,
        )


class AdvertiserListView(PartyListView):
    template_name = "operator/advertisers.html"
    model = Advertiser
    invite = True

    def post(self, request, *args, **kwargs):
        form = InviteForm(request.POST, network=self.network)
        if form.is_valid():
            try:
                advertiser = accounts.advertiser_invite(
                    network=self.network, name=form.cleaned_data["name"], email=form.cleaned_data["email"],
                    actor=request.user, base_url=self.base_url(),
                )
            except ValidationError as exc:
                form.add_error("email", exc.messages[0])
            else:
                messages.success(request, _("Invited %(advertiser)s: an e-mail with a link is on its way.") % {
                    "advertiser": advertiser.name})
                return redirect("operator_advertisers")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AffiliateListView(PartyListView):
    """The affiliates with their partner groups: tick rows to put them in a group; create groups."""

    template_name = "operator/affiliates.html"
    model = Affiliate

    def get_queryset(self):
        queryset = super().get_queryset().select_related("group")
        group = self.request.GET.get("group", "")
        if group.isdigit():
            queryset = queryset.filter(group_id=int(group))
        return queryset

    def get_context_data(self, group_form=None, **kwargs):
        groups = selectors.partner_groups(network=self.network)
        return super().get_context_data(groups=groups, group_filter=self.request.GET.get("group", ""),
                                        group_form=group_form or PartnerGroupForm(), **kwargs)

    def post(self, request, *args, **kwargs):
        form = PartnerGroupForm(request.POST)
        if form.is_valid():
            try:
                group = services.partner_group_create(network=self.network, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Partner group “%(group)s” created: tick affiliates to put them in it.") % {
                    "group": group.name})
                return redirect("operator_affiliates")
        return self.render_to_response(self.get_context_data(group_form=form), status=400)


class PartyStatusView(NetworkPageMixin, View):
    """POST status=active|suspended for an advertiser or affiliate (htmx swaps the table row)."""

    roles = OPERATORS
    model = None

    def post(self, request, pk):
        party = self.scoped_object(self.model, pk=pk)
        status = request.POST.get("status", "")
        if status not in (PartyStatus.ACTIVE, PartyStatus.SUSPENDED):
            return HttpResponseBadRequest("status must be 'active' or 'suspended'.")
        previous = party.status
        if previous != status:
            services.party_set_status(network=self.network, party=party, status=status, actor=request.user)
            accounts.party_status_notify(party=party, previous=previous, base_url=self.base_url())
        verb = {PartyStatus.ACTIVE: _("is active"), PartyStatus.SUSPENDED: _("is suspended")}[status]
        if is_htmx(request):
            return render(request, "operator/_party_row.html", {
                "party": party, "kind": self.model._meta.model_name, "compact": request.POST.get("compact") == "1"})
        messages.success(request, _("%(party)s %(verb)s.") % {"party": party.name, "verb": verb})
        return redirect(f"operator_{self.model._meta.model_name}s")


class StaffView(OperatorPage):
    template_name = "operator/staff.html"

    def get_context_data(self, form=None, **kwargs):
        members = self.scoped(Membership).filter(role__in=OPERATORS).select_related("user").order_by("role", "id")
        can_invite = self.membership.role == Role.OWNER
        return super().get_context_data(
            members=members, can_invite=can_invite,
            form=form or (InviteForm(network=self.network) if can_invite else None), **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if self.membership.role != Role.OWNER:
            return render(request, "403.html", {"reason": "Only the network's owner invites staff."}, status=403)
        form = InviteForm(request.POST, network=self.network)
        if form.is_valid():
            try:
                accounts.staff_invite(
                    network=self.network, name=form.cleaned_data["name"], email=form.cleaned_data["email"],
                    actor=request.user, base_url=self.base_url(),
                )
            except ValidationError as exc:
                form.add_error("email", exc.messages[0])
            else:
                messages.success(request, _("Invited %(email)s as staff.") % {"email": form.cleaned_data['email']})
                return redirect("operator_staff")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AnnouncementsView(OperatorPage):
    template_name = "operator/announcements.html"

    def get_context_data(self, form=None, **kwargs):
        return super().get_context_data(
            page=paginate(self.request, selectors.announcements_for(network=self.network, membership=self.membership)),
            form=form or AnnouncementForm(), **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = AnnouncementForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        services.announcement_create(network=self.network, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Announcement published."))
        return redirect("operator_announcements")


class NetworkSettingsView(TrackingDomainsMixin, OperatorPage):
    template_name = "operator/settings.html"

    def get_context_data(self, form=None, domain_form=None, **kwargs):
        return super().get_context_data(form=form or NetworkSettingsForm(instance=self.network),
                                        day_rebuild=day_rebuild_shown(self, page=True),
                                        **self.domains_context(domain_form), **kwargs)

    def post(self, request, *args, **kwargs):
        network = Network.objects.get(pk=self.network.pk)
        before = {f: getattr(network, f) for f in NetworkSettingsForm.Meta.fields}
        form = NetworkSettingsForm(request.POST, instance=network)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        with transaction.atomic():
            network = form.save()
            after = {f: getattr(network, f) for f in NetworkSettingsForm.Meta.fields}
            changed = {key: after[key] for key in after if after[key] != before[key]}
            services.audit_log_record(network=network, actor=request.user, action="network.settings_changed",
                                      target=network, data=changed)
            if "timezone" in changed:
                daily.rebuild_queue(network)
        messages.success(request, _("Settings saved."))
        return redirect("operator_settings")


# The session's last finished rebuild whose "recomputed" note was shown; a note older than a day is not.
REBUILD_SEEN_KEY = "day_rebuild_seen"
REBUILD_NOTE_FOR = timedelta(days=1)


def day_rebuild_shown(view: OperatorPage, *, page: bool) -> DayRebuild | None:
    """The network's latest rebuild of the report figures as the settings page shows it: while queued or running
    (its progress) and failed (its error, a retry); once finished, the page says so once a session, the polled
    fragment whenever asked."""
    rebuild = view.scoped(DayRebuild).first()
    if rebuild is None or rebuild.status != DayRebuild.Status.DONE:
        return rebuild
    session = view.request.session
    if page and (session.get(REBUILD_SEEN_KEY) == rebuild.pk
                 or rebuild.finished_at is None or rebuild.finished_at < timezone.now() - REBUILD_NOTE_FOR):
        return None
    session[REBUILD_SEEN_KEY] = rebuild.pk
    return rebuild


class DayRebuildView(OperatorPage):
    """The settings page's rebuild of the report figures after a time zone change: GET the fragment htmx polls
    while it runs; POST retries a failed one (a new rebuild in the network's time zone)."""

    template_name = "operator/_day_rebuild.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(rebuild=day_rebuild_shown(self, page=False), **kwargs)

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            # The network's row serializes retries: a second one sees the first's queued rebuild, not the failure.
            network = Network.objects.select_for_update().get(pk=self.network.pk)
            latest = self.scoped(DayRebuild).first()
            retried = latest is not None and latest.status == DayRebuild.Status.FAILED
            if retried:
                daily.rebuild_queue(network)
        if is_htmx(request):
            return self.render_to_response(self.get_context_data())
        if retried:
            messages.success(request, _("Recomputing report figures for %(timezone)s again.") % {
                "timezone": network.timezone})
        return redirect("operator_settings")


class AuditLogView(OperatorPage):
    template_name = "operator/audit.html"

    def get_context_data(self, **kwargs):
        entries = self.scoped(AuditLog).select_related("actor")
        action = self.request.GET.get("action", "").strip()
        if action:
            entries = entries.filter(action__startswith=action)
        return super().get_context_data(page=paginate(self.request, entries), action=action, **kwargs)
