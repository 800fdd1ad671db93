"""Health check, favicon and the JSON-aware error pages (the home page is network.start_views.home)."""

from django.db import connection
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok"})


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: the static SVG (its URL read per request, so
    production's hashed name comes from the collected manifest, not at import)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


class PageNotFound(Http404):
    """A 404 whose message is for the person reading the page (translated where it is raised): the 404 page shows
    it. Other 404s (an unknown URL, `get_object_or_404`) keep their technical text off the page."""


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    reason = str(exception) if isinstance(exception, PageNotFound) else ""
    return HttpResponse(render(request, "404.html", {"reason": reason}).content, status=404)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return HttpResponse(render(request, "400.html").content, status=400)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    # No request context: the page must render when the database (users, sessions, networks) is what failed.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
