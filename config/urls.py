"""URL map: each app contributes its API routes under /api/v1/ and its pages."""
from allauth.account import views as account_views
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from network import start_views
from network.signup_limits import limited_signup

api_v1 = [
    path("", include("network.urls")),
    path("", include("programs.urls")),
    path("", include("tracking.urls")),
    path("", include("commissions.urls")),
    path("", include("payouts.urls")),
    path("", include("reports.urls")),
]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Uploaded media (creatives) in the embedded default; production serves MEDIA_ROOT from the proxy or storage.
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
    # Open sign-up counts against the client's sign-up limit (network.signup_limits).
    path("accounts/signup/", limited_signup(account_views.signup), name="account_signup"),
    path("accounts/", include("allauth.urls")),
    # Party pages that extend network's own overview/integration pages come before network.web_urls.
    path("", include("commissions.advertiser_urls")),
    path("", include("tracking.advertiser_urls")),
    path("", include("programs.advertiser_urls")),
    path("", include("commissions.partner_urls")),
    path("", include("network.web_urls")),
    path("", include("commissions.operator_urls")),
    path("", include("payouts.operator_urls")),
    path("", include("tracking.operator_urls")),
    path("", include("programs.partner_urls")),
    path("", include("tracking.partner_urls")),
    path("", include("payouts.partner_urls")),
    path("", include("reports.advertiser_urls")),
    path("", include("reports.partner_urls")),
    path("", include("reports.operator_urls")),
    path("", include("tracking.demo_urls")),
    path("", include("tracking.redirect_urls")),
    path("", start_views.home, name="home"),
]

handler400 = "core.views.bad_request"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
