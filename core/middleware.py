"""Response headers Django 5.2 does not set itself (Content-Security-Policy, Permissions-Policy); the site's own
error pages under DEBUG, and JSON error bodies for every API path."""

import logging
from http import HTTPStatus

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, MiddlewareNotUsed, PermissionDenied, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.urls import Resolver404, get_resolver
from django.utils.log import log_response


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


class FriendlyErrorPagesMiddleware:
    """Under DEBUG (the demo) a visitor still gets the site's own 404 and 500 pages: Django's technical pages list
    every URL, the settings and the traceback. `DEBUG_ERROR_PAGES=1` brings them back for a developer. Off
    without DEBUG, where Django renders handler404/handler500 itself."""

    def __init__(self, get_response):
        if not settings.DEBUG or settings.DEBUG_ERROR_PAGES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        # A path no route matches fails before any view runs (so before process_exception): answered here,
        # still inside CommonMiddleware, which turns the 404 into its slash redirect where one exists.
        try:
            get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404:
            from core.views import not_found

            return not_found(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        from core.views import bad_request, not_found, server_error

        if isinstance(exception, Http404):
            return not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # Django renders handler403 under DEBUG too
        if isinstance(exception, BadRequest | SuspiciousOperation):
            if isinstance(exception, SuspiciousOperation):  # logged as Django logs it
                logging.getLogger(f"django.security.{exception.__class__.__name__}").error(
                    str(exception), exc_info=exception, extra={"status_code": 400, "request": request})
            return bad_request(request, exception)
        signals.got_request_exception.send(sender=None, request=request)
        response = server_error(request)
        log_response("%s: %s", "Internal Server Error", request.path, response=response, request=request,
                     exception=exception)
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
