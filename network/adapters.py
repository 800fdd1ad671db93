"""django-allauth policy: e-mail is the username, and sign-ups happen on a network's join page."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.requests import RequestSite
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # An account without a network has nothing to see: people join a network (/n/<slug>/join)
        # or are invited by its operator.
        return False

    def get_client_ip(self, request) -> str:
        # The login limits count the address the API's limits and the click redirect see (TRUSTED_PROXY_COUNT).
        from core.throttling import client_address

        return client_address(request) or super().get_client_ip(request)

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
