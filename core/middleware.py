"""Response headers Django 5.2 does not set itself (Content-Security-Policy, Permissions-Policy), and JSON error
bodies for every API path."""

from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def _is_text_page(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() in ("text/html", "text/plain")


class ApiErrorsAsJsonMiddleware:
    """Every error page under /api/ becomes `{"detail": ...}`, whatever DEBUG says: Django's own 404 for a path no
    route matches (`/api/v1/payout-methods/0.5/`), and its debug pages (HTML, or plain text) for an unhandled
    exception. Answers that are not a text page (DRF's JSON, the conversion pixel's GIF) pass untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/") or not _is_text_page(response):
            return response
        try:
            phrase = HTTPStatus(response.status_code).phrase
        except ValueError:
            phrase = "Error"
        detail = "Not found." if response.status_code == 404 else \
            "Server error." if response.status_code >= 500 else f"{phrase}."
        replacement = JsonResponse({"detail": detail}, status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement
