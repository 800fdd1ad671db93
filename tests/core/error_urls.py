"""A URL conf for the error page tests: the site's routes plus a page that fails."""

from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.urls import path

from config.urls import handler400, handler404, handler500, urlpatterns  # noqa: F401 (the handlers are read from here)


def broken(request):
    raise RuntimeError("a bug in a page")


def missing(request):
    raise Http404("no such thing")


def suspicious(request):
    raise SuspiciousOperation("a forged field")


urlpatterns = [path("broken/", broken), path("missing/", missing), path("suspicious/", suspicious), *urlpatterns]
