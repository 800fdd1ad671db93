"""Shared API plumbing: pagination and JSON error bodies."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import SimpleRouter
from rest_framework.views import exception_handler as drf_exception_handler

from .dbretry import BUSY, is_lock_error
from .filters import MAX_ID


class Pagination(PageNumberPagination):
    """Page numbers; a `page_size` that is not a whole number from 1 to 500 is refused, not silently ignored."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


def id_param(request, name: str, message: str) -> int:
    """A required object id from the query string (`core.filters.ID_SCHEMA`: a whole number from 1 to 2**63-1);
    anything else is a 400 on that field."""
    raw = request.query_params.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and 1 <= int(raw) <= MAX_ID):
        raise exceptions.ValidationError({name: [message]})
    return int(raw)


class DatabaseBusy(exceptions.APIException):
    status_code = 503
    default_detail = BUSY
    default_code = "database_busy"


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError as a 400 with field errors, and a database lock that outlasted
    the wait (SQLite's "database is locked" with many writers) as a 503: its transaction was rolled back."""
    if is_lock_error(exc):
        response = drf_exception_handler(DatabaseBusy(), context)
        response["Retry-After"] = "1"
        return response
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


class Router(SimpleRouter):
    """API routes answer with and without a trailing slash (`/api/v1/links` as CONTRACT.md writes it)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
