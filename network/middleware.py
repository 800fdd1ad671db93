"""Every page of a member shows times in the network's time zone: activated here once, for the whole request."""

import zoneinfo

from django.utils import timezone

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
