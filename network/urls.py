from django.urls import re_path

from core.api import Router

from . import api, api_domains

router = Router()
router.register("advertisers", api.AdvertiserViewSet, basename="advertiser")
router.register("affiliates", api.AffiliateViewSet, basename="affiliate")
router.register("partner-groups", api.PartnerGroupViewSet, basename="partner-group")
router.register("api-keys", api.ApiKeyViewSet, basename="api-key")
router.register("announcements", api.AnnouncementViewSet, basename="announcement")
router.register("tracking-domains", api_domains.TrackingDomainViewSet, basename="tracking-domain")

urlpatterns = [
    re_path(r"^me/?$", api.MeView.as_view(), name="me"),
    re_path(r"^network/?$", api.NetworkSettingsView.as_view(), name="network-settings"),
    *router.urls,
]
