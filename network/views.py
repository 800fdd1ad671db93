"""Web pages of tenancy: dashboard routing, network switcher, join page, invitations, the
operator's pages (advertisers, affiliates, staff, announcements, settings, audit log) and the
advertiser/partner overview and API-key pages. Other apps add their pages beside these."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from allauth.account.utils import complete_signup
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from . import accounts, navigation, selectors, services
from .auth import SESSION_NETWORK_KEY, membership_for_request
from .forms import AnnouncementForm, ApiKeyForm, InviteForm, JoinExistingForm, JoinForm, NetworkSettingsForm
from .models import Advertiser, Affiliate, ApiKey, AuditLog, Membership, Network, PartyStatus, Role
from .permissions import OPERATORS
from .web import NetworkPageMixin

PAGE_SIZE = 50
DASHBOARD_OF_SECTION = {
    "operator": "operator_dashboard",
    "advertiser": "advertiser_dashboard",
    "partner": "partner_dashboard",
}


def _paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Accounts, switching, joining ----------------------------------------------------------
@login_required
def dashboard(request):
    """After login: the dashboard of the current membership's role."""
    membership = membership_for_request(request)
    if membership is None:
        return render(request, "no_membership.html", status=403)
    return redirect(DASHBOARD_OF_SECTION[navigation.section_for(membership.role)])


@login_required
@require_POST
def network_switch(request):
    try:
        network_id = int(request.POST.get("network", ""))
    except ValueError:
        return HttpResponseBadRequest("Pick a network.")
    membership = selectors.memberships_of_user(request.user).filter(network_id=network_id).first()
    if membership is None:
        raise Http404("You are not in this network.")
    request.session[SESSION_NETWORK_KEY] = membership.network_id
    request.membership = membership
    messages.success(request, f"You are now in {membership.network.name} as {membership.get_role_display()}.")
    return redirect("dashboard")


class JoinView(View):
    """`/n/<slug>/join`: an affiliate signs up for one network."""

    template_name = "accounts/join.html"

    def dispatch(self, request, *args, slug, **kwargs):
        self.network = get_object_or_404(Network, slug=slug)
        self.existing = None
        if request.user.is_authenticated:
            self.existing = Membership.objects.for_network(self.network).filter(user=request.user).first()
        return super().dispatch(request, *args, **kwargs)

    def form_class(self):
        return JoinExistingForm if self.request.user.is_authenticated else JoinForm

    def get(self, request):
        return self.render(self.form_class()())

    def render(self, form, status=200):
        context = {"network": self.network, "form": form, "existing": self.existing}
        return render(self.request, self.template_name, context, status=status)

    def post(self, request):
        if self.existing is not None:
            return redirect("dashboard")
        form = self.form_class()(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        authenticated = request.user.is_authenticated
        email = request.user.email if authenticated else form.cleaned_data["email"]
        try:
            with transaction.atomic():
                affiliate = accounts.affiliate_sign_up(
                    network=self.network, name=form.cleaned_data["name"], email=email,
                    password=None if authenticated else form.cleaned_data["password1"],
                )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
            return self.render(form, status=400)
        request.session[SESSION_NETWORK_KEY] = self.network.pk
        if affiliate.status == PartyStatus.PENDING:
            accounts.operators_notify_sign_up(affiliate=affiliate, base_url=request.build_absolute_uri("/").rstrip("/"))
        if authenticated:
            messages.success(request, f"You joined {self.network.name}.")
            return redirect("dashboard")
        user = affiliate.membership.user
        # allauth's own sign-up completion: sends the confirmation e-mail and shows "check your inbox".
        return complete_signup(request, user, "mandatory", reverse("dashboard"))


class InvitationAcceptView(View):
    """An invited advertiser or staff member sets a password; the link proves the address."""

    template_name = "accounts/invitation_accept.html"

    def dispatch(self, request, *args, uidb64, token, **kwargs):
        User = get_user_model()
        try:
            user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
        except (ValueError, TypeError, OverflowError, User.DoesNotExist):
            user = None
        if user is None or not default_token_generator.check_token(user, token):
            return render(request, "accounts/invitation_invalid.html", status=400)
        self.invited = user
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": SetPasswordForm(self.invited), "invited": self.invited})

    def post(self, request):
        form = SetPasswordForm(self.invited, request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "invited": self.invited}, status=400)
        user = form.save()
        accounts.email_mark_verified(user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        newest = selectors.memberships_of_user(user).order_by("-id").first()
        if newest is not None:
            request.session[SESSION_NETWORK_KEY] = newest.network_id
        messages.success(request, "Your password is set. Welcome!")
        return redirect("dashboard")


# --- Operator --------------------------------------------------------------------------------
class OperatorPage(NetworkPageMixin, TemplateView):
    roles = OPERATORS


class OperatorDashboardView(OperatorPage):
    template_name = "operator/dashboard.html"

    def get_context_data(self, **kwargs):
        affiliates = self.scoped(Affiliate)
        return super().get_context_data(
            kpis=[
                ("Advertisers", self.scoped(Advertiser).filter(status=PartyStatus.ACTIVE).count(),
                 reverse("operator_advertisers")),
                ("Active affiliates", affiliates.filter(status=PartyStatus.ACTIVE).count(),
                 reverse("operator_affiliates") + "?status=active"),
                ("Pending affiliates", affiliates.filter(status=PartyStatus.PENDING).count(),
                 reverse("operator_affiliates") + "?status=pending"),
                ("Operators", self.scoped(Membership).filter(role__in=OPERATORS, is_active=True).count(),
                 reverse("operator_staff")),
            ],
            pending=affiliates.filter(status=PartyStatus.PENDING).order_by("created_at")[:10],
            announcements=selectors.announcements_for(network=self.network, membership=self.membership)[:3],
            **kwargs,
        )


class NewAffiliatesChartView(OperatorPage):
    """JSON for the overview chart: affiliates who joined per day (network's time zone), last 30 days."""

    days = 30

    def get(self, request, *args, **kwargs):
        tz = ZoneInfo(self.network.timezone)
        today = timezone.now().astimezone(tz).date()
        first = today - timedelta(days=self.days - 1)
        rows = (
            self.scoped(Affiliate)
            .filter(created_at__gte=timezone.now() - timedelta(days=self.days + 1))
            .annotate(day=TruncDate("created_at", tzinfo=tz))
            .values("day")
            .annotate(count=Count("id"))
        )
        counts = {row["day"]: row["count"] for row in rows}
        labels = [first + timedelta(days=n) for n in range(self.days)]
        return JsonResponse({
            "label": "New affiliates",
            "timezone": self.network.timezone,
            "labels": [day.isoformat() for day in labels],
            "data": [counts.get(day, 0) for day in labels],
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
            page=_paginate(self.request, self.get_queryset()),
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
                messages.success(request, f"Invited {advertiser.name}: an e-mail with a link is on its way.")
                return redirect("operator_advertisers")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AffiliateListView(PartyListView):
    template_name = "operator/affiliates.html"
    model = Affiliate


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
        verb = {PartyStatus.ACTIVE: "is active", PartyStatus.SUSPENDED: "is suspended"}[status]
        if _is_htmx(request):
            return render(request, "operator/_party_row.html", {
                "party": party, "kind": self.model._meta.model_name, "compact": request.POST.get("compact") == "1"})
        messages.success(request, f"{party.name} {verb}.")
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
                messages.success(request, f"Invited {form.cleaned_data['email']} as staff.")
                return redirect("operator_staff")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AnnouncementsView(OperatorPage):
    template_name = "operator/announcements.html"

    def get_context_data(self, form=None, **kwargs):
        return super().get_context_data(
            page=_paginate(self.request, selectors.announcements_for(network=self.network, membership=self.membership)),
            form=form or AnnouncementForm(), **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = AnnouncementForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        services.announcement_create(network=self.network, actor=request.user, **form.cleaned_data)
        messages.success(request, "Announcement published.")
        return redirect("operator_announcements")


class NetworkSettingsView(OperatorPage):
    template_name = "operator/settings.html"

    def get_context_data(self, form=None, **kwargs):
        return super().get_context_data(form=form or NetworkSettingsForm(instance=self.network), **kwargs)

    def post(self, request, *args, **kwargs):
        network = Network.objects.get(pk=self.network.pk)
        before = {f: getattr(network, f) for f in NetworkSettingsForm.Meta.fields} | {"payout": network.payout_settings}
        form = NetworkSettingsForm(request.POST, instance=network)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        with transaction.atomic():
            network = form.save()
            after = {f: getattr(network, f) for f in NetworkSettingsForm.Meta.fields} | {
                "payout": network.payout_settings}
            changed = {key: after[key] for key in after if after[key] != before[key]}
            services.audit_log_record(network=network, actor=request.user, action="network.settings_changed",
                                      target=network, data=changed)
        messages.success(request, "Settings saved.")
        return redirect("operator_settings")


class AuditLogView(OperatorPage):
    template_name = "operator/audit.html"

    def get_context_data(self, **kwargs):
        entries = self.scoped(AuditLog).select_related("actor")
        action = self.request.GET.get("action", "").strip()
        if action:
            entries = entries.filter(action__startswith=action)
        return super().get_context_data(page=_paginate(self.request, entries), action=action, **kwargs)


# --- Advertiser and partner -------------------------------------------------------------------
class AdvertiserPage(NetworkPageMixin, TemplateView):
    roles = frozenset({Role.ADVERTISER})


class PartnerPage(NetworkPageMixin, TemplateView):
    roles = frozenset({Role.AFFILIATE})


class AdvertiserDashboardView(AdvertiserPage):
    template_name = "advertiser/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            announcements=selectors.announcements_for(network=self.network, membership=self.membership)[:5], **kwargs)


class PartnerDashboardView(PartnerPage):
    template_name = "partner/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            announcements=selectors.announcements_for(network=self.network, membership=self.membership)[:5],
            join_url=self.request.build_absolute_uri(reverse("network_join", args=[self.network.slug])),
            **kwargs)


class PartnerAnnouncementsView(PartnerPage):
    template_name = "partner/announcements.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page=_paginate(self.request, selectors.announcements_for(network=self.network, membership=self.membership)),
            **kwargs)


class ApiKeysView(NetworkPageMixin, TemplateView):
    """The membership's own API keys: create (shown once) and revoke."""

    roles = frozenset({Role.ADVERTISER, Role.AFFILIATE})
    template_name = "network/api_keys.html"

    def keys(self):
        return self.scoped(ApiKey).filter(membership=self.membership).order_by("-created_at", "-id")

    def get_context_data(self, form=None, issued=None, **kwargs):
        section = navigation.section_for(self.membership.role)
        return super().get_context_data(
            keys=self.keys(), form=form or ApiKeyForm(), issued=issued, section=section,
            base_template=f"{section}/base.html", api_base=self.request.build_absolute_uri("/api/v1/"), **kwargs)

    def post(self, request, *args, **kwargs):
        form = ApiKeyForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        issued = services.api_key_create(membership=self.membership, name=form.cleaned_data["name"])
        services.audit_log_record(network=self.network, actor=request.user, action="api_key.created",
                                  target=issued.api_key)
        # The raw key is in this response only; it is never stored.
        return self.render_to_response(self.get_context_data(issued=issued))


class ApiKeyRevokeView(NetworkPageMixin, View):
    roles = frozenset({Role.ADVERTISER, Role.AFFILIATE})

    def post(self, request, pk):
        key = get_object_or_404(self.scoped(ApiKey).filter(membership=self.membership), pk=pk)
        services.api_key_revoke(network=self.network, api_key=key, actor=request.user)
        messages.success(request, f"Key {key.prefix}… is revoked.")
        section = navigation.section_for(self.membership.role)
        return redirect(f"{section}_integration")
