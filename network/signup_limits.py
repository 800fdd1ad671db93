"""Sign-up limits: starting a network and opening an account, counted per client (its hashed address, never the
raw one) in the cache's fixed windows (core.throttling)."""

from django.conf import settings
from django.shortcuts import render

from core.throttling import client_ident, hit


def refused(request, *, scope: str):
    """One more attempt of this client in `scope` ("network_start" or "signup"): None while within the limit,
    else the 429 page saying when to try again."""
    rate = settings.NETWORK_START_RATE_LIMIT if scope == "network_start" else settings.SIGNUP_RATE_LIMIT
    allowed, wait = hit(scope, client_ident(request), rate)
    if allowed:
        return None
    response = render(request, "429.html", {"retry_minutes": max(1, round((wait or 60) / 60))}, status=429)
    response["Retry-After"] = str(int(wait or 60))
    return response


def limited_signup(view):
    """Wrap a sign-up view: each POST counts against the client's sign-up limit."""

    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            answer = refused(request, scope="signup")
            if answer is not None:
                return answer
        return view(request, *args, **kwargs)

    wrapped.__name__ = getattr(view, "__name__", "signup")
    wrapped.__doc__ = view.__doc__
    return wrapped
