"""Web pages of tenancy: dashboard routing, network switcher, join page, invitations, and the
advertiser/partner overview and API-key pages (the operator's are in `operator_views.py`)."""

from allauth.account.utils import complete_signup
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from core.views import PageNotFound

from . import accounts, i18n, navigation, selectors, services
from .auth import SESSION_NETWORK_KEY, membership_for_request
from .forms import ApiKeyForm, JoinExistingForm, JoinForm
from .models import ApiKey, Membership, Network, PartyStatus, Role
from .signup_limits import refused
from .web import NetworkPageMixin, paginate

DASHBOARD_OF_SECTION = {
    "operator": "operator_dashboard",
    "advertiser": "advertiser_dashboard",
    "partner": "partner_dashboard",
}


# --- Accounts, switching, joining ----------------------------------------------------------
@login_required
def dashboard(request):
    """After login: the dashboard of the current membership's role."""
    membership = membership_for_request(request)
    if membership is None:
        # A new account (after sign-up) or one whose memberships ended: the ways in.
        return redirect("get_started")
    return redirect(DASHBOARD_OF_SECTION[navigation.section_for(membership.role)])


@login_required
@require_POST
def network_switch(request):
    try:
        network_id = int(request.POST.get("network", ""))
    except ValueError:
        return HttpResponseBadRequest(_("Pick a network."))
    membership = selectors.memberships_of_user(request.user).filter(network_id=network_id).first()
    if membership is None:
        raise PageNotFound(_("You are not in this network."))
    request.session[SESSION_NETWORK_KEY] = membership.network_id
    request.membership = membership
    messages.success(request, _("You are now in %(network)s as %(role)s.") % {
        "network": membership.network.name, "role": membership.get_role_display()})
    return redirect("dashboard")


@require_POST
def language_switch(request):
    """The top bar's language switcher: saved on the user (every device, e-mails too) and in a cookie (a stranger's
    choice, the login page's). Empty: back to the network's language (or the browser's)."""
    code = request.POST.get("language", "")
    if code and i18n.supported(code) != code:
        return HttpResponseBadRequest(_("Pick one of the listed languages."))
    user = request.user
    if user.is_authenticated and user.language != code:
        user.language = code
        user.save(update_fields=["language"])
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    response = redirect(target)
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                               domain=settings.LANGUAGE_COOKIE_DOMAIN)
    return response


class JoinView(View):
    """`/n/<slug>/join`: an affiliate signs up for one network."""

    template_name = "accounts/join.html"

    def dispatch(self, request, *args, slug, **kwargs):
        self.network = get_object_or_404(Network, slug=slug)
        # The public join page speaks the network's language (unless the visitor chose one).
        i18n.activate_for_request(request, network=self.network)
        self.existing = None
        if request.user.is_authenticated:
            self.existing = Membership.objects.for_network(self.network).filter(user=request.user).first()
        # `?ref=` of a referral link (kept on the POST: the form posts to this same URL).
        self.referrer = selectors.referrer_for_code(network=self.network, code=request.GET.get("ref"))
        return super().dispatch(request, *args, **kwargs)

    def form_class(self):
        return JoinExistingForm if self.request.user.is_authenticated else JoinForm

    def get(self, request):
        return self.render(self.form_class()())

    def render(self, form, status=200):
        context = {"network": self.network, "form": form, "existing": self.existing, "referrer": self.referrer}
        return render(self.request, self.template_name, context, status=status)

    def post(self, request):
        if self.existing is not None:
            return redirect("dashboard")
        form = self.form_class()(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        limited = refused(request, scope="signup")
        if limited is not None:
            return limited
        authenticated = request.user.is_authenticated
        email = request.user.email if authenticated else form.cleaned_data["email"]
        if not authenticated and accounts.account_exists(email):
            # The same answer as a new sign-up ("check your inbox"); the mail tells the owner to log in first.
            accounts.join_existing_notify(network=self.network, email=email,
                                          base_url=request.build_absolute_uri("/").rstrip("/"))
            request.session[SESSION_NETWORK_KEY] = self.network.pk
            return redirect("account_email_verification_sent")
        try:
            affiliate = accounts.affiliate_sign_up(
                network=self.network, name=form.cleaned_data["name"], email=email,
                password=None if authenticated else form.cleaned_data["password1"], referred_by=self.referrer,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
            return self.render(form, status=400)
        request.session[SESSION_NETWORK_KEY] = self.network.pk
        if affiliate.status == PartyStatus.PENDING:
            accounts.operators_notify_sign_up(affiliate=affiliate, base_url=request.build_absolute_uri("/").rstrip("/"))
        if authenticated:
            messages.success(request, _("You joined %(network)s.") % {"network": self.network.name})
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
        messages.success(request, _("Your password is set. Welcome!"))
        return redirect("dashboard")


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
            page=paginate(self.request, selectors.announcements_for(network=self.network, membership=self.membership)),
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
        messages.success(request, _("Key %(prefix)s… is revoked.") % {"prefix": key.prefix})
        section = navigation.section_for(self.membership.role)
        return redirect(f"{section}_integration")
