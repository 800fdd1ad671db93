"""The ways in: the home page (public networks' join pages), the chooser after sign-up, starting a network."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.views import PageNotFound

from . import selectors, services
from .auth import SESSION_NETWORK_KEY
from .forms import NetworkStartForm
from .models import Membership, Role
from .signup_limits import refused

# The network just started and, until its page is first shown, the owner's one-time API key (POST/redirect/GET:
# a refresh of the "ready" page neither resubmits the form nor shows the key again).
SESSION_STARTED_KEY = "afn_network_started"


def home(request):
    return render(request, "home.html", {
        "networks": selectors.public_networks(), "network_signup": settings.ALLOW_NETWORK_SIGNUP,
    })


@login_required
def get_started(request):
    """Where a person without a network lands (after sign-up): join a public network or start one."""
    memberships = list(selectors.memberships_of_user(request.user))
    joined = {m.network_id for m in memberships}
    networks = [network for network in selectors.public_networks() if network.pk not in joined]
    return render(request, "accounts/get_started.html", {
        "networks": networks, "memberships": memberships, "network_signup": settings.ALLOW_NETWORK_SIGNUP,
    })


class NetworkStartView(View):
    """`/start/network/`: a signed-in person starts a network and becomes its owner (when the installation
    allows it: ALLOW_NETWORK_SIGNUP)."""

    template_name = "accounts/network_start.html"

    def dispatch(self, request, *args, **kwargs):
        if not settings.ALLOW_NETWORK_SIGNUP:
            raise PageNotFound(_("Starting a network from the web is turned off here."))
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": NetworkStartForm()})

    def post(self, request):
        form = NetworkStartForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        limited = refused(request, scope="network_start")
        if limited is not None:
            return limited
        data = form.cleaned_data
        try:
            network, issued = services.network_create(
                name=data["name"], slug=data["slug"], currency=data["default_currency"],
                owner_email=request.user.email, timezone_name=data["timezone"], is_public=data["is_public"])
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return render(request, self.template_name, {"form": form}, status=400)
        request.session[SESSION_NETWORK_KEY] = network.pk
        messages.success(request, _("%(name)s is ready: you are its owner.") % {"name": network.name})
        # The owner's first API key is kept in the session until the next page shows it once (it is never stored).
        request.session[SESSION_STARTED_KEY] = {"network": network.pk, "raw_key": issued.raw}
        return redirect("network_started")


@login_required
def network_started(request):
    """`/start/network/ready/`: the network just started; its owner key on the first view only."""
    started = request.session.get(SESSION_STARTED_KEY)
    if not started:
        return redirect("dashboard")
    membership = (Membership.objects.filter(user=request.user, network_id=started.get("network"), role=Role.OWNER)
                  .select_related("network").first())
    if membership is None:
        request.session.pop(SESSION_STARTED_KEY, None)
        return redirect("dashboard")
    raw_key = started.get("raw_key")
    if raw_key:
        request.session[SESSION_STARTED_KEY] = {"network": membership.network_id, "raw_key": ""}
    return render(request, "accounts/network_started.html", {"network": membership.network, "raw_key": raw_key})
