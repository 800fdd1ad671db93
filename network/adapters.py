"""django-allauth policy: e-mail is the username, and sign-ups happen on a network's join page."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # An account without a network has nothing to see: people join a network (/n/<slug>/join)
        # or are invited by its operator.
        return False

    def populate_username(self, request, user) -> None:
        user.username = (user.email or "").strip().lower()

    def get_login_redirect_url(self, request) -> str:
        return reverse("dashboard")
