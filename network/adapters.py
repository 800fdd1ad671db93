"""django-allauth policy: e-mail is the username; a sign-up leads to the ways in (join a public network, start one)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.urls import reverse

from .selectors import public_networks


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # An account without a network has nothing to see but the ways in (`get_started`): open while there is
        # one, a public network to join or the right to start a network. Otherwise people join by a network's own
        # join page (/n/<slug>/join) or its operator's invitation, and the closed page says so.
        return settings.ALLOW_NETWORK_SIGNUP or public_networks().exists()

    def get_client_ip(self, request) -> str:
        # The login and sign-up limits count the address the API's limits and the click redirect see
        # (TRUSTED_PROXY_COUNT), hashed: allauth keeps it in its cache keys, where no raw address belongs.
        from core.throttling import client_ident

        return client_ident(request)

    def populate_username(self, request, user) -> None:
        user.username = (user.email or "").strip().lower()

    def get_login_redirect_url(self, request) -> str:
        return reverse("dashboard")

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # E-mails name the host the person used (one installation serves many networks), not the
        # placeholder Site row.
        request = getattr(allauth_context, "request", None)
        if request is not None:
            context = {**context, "current_site": RequestSite(request)}
        super().send_mail(template_prefix, email, context)
