"""Bearer API keys for the API, and the network a request acts in (key or session)."""

from datetime import datetime, timedelta

from django.dispatch import Signal
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiKey, Membership
from .services import hash_api_key

# last_used_at is written at most this often per key, so reads stay read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Sent after a key authenticated a request (request, membership): tracking remembers where affiliates' members
# call from (self-referral), without this app knowing about fraud.
api_key_authenticated = Signal()


def api_key_refusal(*, revoked: bool, membership_active: bool, user_active: bool) -> str | None:
    """Why a found key may not act (the 401's message), or None: the one rule of a key's validity, which the
    postback's fast path applies to its own key row too."""
    if revoked:
        return "Invalid or revoked API key."
    if not membership_active or not user_active:
        return "This API key's membership is suspended."
    return None


def key_use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether this request should record the key's use (at most once per LAST_USED_RESOLUTION)."""
    return last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`; request.auth becomes the ApiKey (with its membership)."""

    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <key>'.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        key = (
            ApiKey.objects.select_related("membership__user", "membership__network")
            .filter(hashed_key=hash_api_key(raw))
            .first()
        )
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        membership = key.membership
        refusal = api_key_refusal(revoked=key.revoked_at is not None, membership_active=membership.is_active,
                                  user_active=membership.user.is_active)
        if refusal is not None:
            raise exceptions.AuthenticationFailed(refusal)
        now = timezone.now()
        if key_use_due(key.last_used_at, now):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        request.membership = membership
        api_key_authenticated.send(sender=ApiKey, request=request, membership=membership)
        return membership.user, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


SESSION_NETWORK_KEY = "network_id"


def membership_for_request(request) -> Membership | None:
    """The membership a request acts as: the API key's, else the session's current network."""
    membership = getattr(request, "membership", None)
    if membership is not None:
        return membership
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("network", "user").filter(user=user, is_active=True)
    network_id = request.session.get(SESSION_NETWORK_KEY) if hasattr(request, "session") else None
    membership = None
    # A link from an e-mail names its network (`?network=<slug>`): a member of it lands there, not in the
    # network the session last used (a non-member's link falls back to the session's, and answers 404 there).
    wanted = request.GET.get("network", "") if hasattr(request, "GET") else ""
    if wanted:
        membership = memberships.filter(network__slug=wanted).first()
        if membership is not None and hasattr(request, "session"):
            request.session[SESSION_NETWORK_KEY] = membership.network_id
    if membership is None and network_id is not None:
        membership = memberships.filter(network_id=network_id).first()
    if membership is None:
        membership = memberships.order_by("id").first()
    request.membership = membership
    return membership
