"""Every page of a member shows times in the network's time zone: activated here once, for the whole request."""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from . import i18n
from .auth import membership_for_request


class NetworkTimeZoneMiddleware:
    """After the session and the user are known: the request's network zone is Django's current time zone, so
    `|date`, `{% now %}`, forms and `localtime` all agree with the charts and report days (which read
    `network.timezone` themselves). The API (with a key or the session) and strangers stay in UTC: the API's
    times are UTC ISO 8601 whoever calls."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self.zone_of(request)
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def zone_of(request):
        if request.path_info.startswith("/api/"):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        membership = membership_for_request(request)
        if membership is None:
            return None
        try:
            return zoneinfo.ZoneInfo(membership.network.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None


class NetworkLanguageMiddleware:
    """After the time zone's: the page's language is the user's choice, else the network's language, else the
    browser's (LocaleMiddleware read the switcher's cookie and Accept-Language before). The API speaks English
    whoever calls: its `detail` strings are part of the contract."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return self.get_response(request)
        user = getattr(request, "user", None)
        membership = membership_for_request(request) if user is not None and user.is_authenticated else None
        i18n.activate_for_request(request, network=membership.network if membership is not None else None)
        return self.get_response(request)
