"""URLs of the web pages of tenancy (accounts, switcher, join, operator/advertiser/partner pages)."""

from django.urls import path

from . import domain_views, group_views, hosts, operator_views, start_views, views
from .models import Advertiser, Affiliate, Role

ADVERTISER = frozenset({Role.ADVERTISER})
AFFILIATE = frozenset({Role.AFFILIATE})

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    # The reverse proxy's question before an on-demand certificate (docs/operations.md).
    path("tls/ask", hosts.tls_ask, name="tls_ask"),
    path("switch/", views.network_switch, name="network_switch"),
    path("start/", start_views.get_started, name="get_started"),
    path("start/network/", start_views.NetworkStartView.as_view(), name="network_start"),
    path("start/network/ready/", start_views.network_started, name="network_started"),
    path("language/", views.language_switch, name="language_switch"),
    path("n/<slug:slug>/join", views.JoinView.as_view(), name="network_join"),
    path("invite/<str:uidb64>/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    # Operator (owner, staff)
    path("operator/", operator_views.OperatorDashboardView.as_view(), name="operator_dashboard"),
    path("operator/charts/new-affiliates.json", operator_views.NewAffiliatesChartView.as_view(),
         name="operator_chart_new_affiliates"),
    path("operator/advertisers/", operator_views.AdvertiserListView.as_view(), name="operator_advertisers"),
    path("operator/advertisers/<int:pk>/status", operator_views.PartyStatusView.as_view(model=Advertiser),
         name="operator_advertiser_status"),
    path("operator/affiliates/", operator_views.AffiliateListView.as_view(), name="operator_affiliates"),
    path("operator/affiliates/<int:pk>/status", operator_views.PartyStatusView.as_view(model=Affiliate),
         name="operator_affiliate_status"),
    path("partner-groups/assign", group_views.PartnerGroupAssignView.as_view(), name="partner_group_assign"),
    path("operator/staff/", operator_views.StaffView.as_view(), name="operator_staff"),
    path("operator/announcements/", operator_views.AnnouncementsView.as_view(), name="operator_announcements"),
    path("operator/settings/", operator_views.NetworkSettingsView.as_view(), name="operator_settings"),
    path("operator/settings/day-rebuild", operator_views.DayRebuildView.as_view(), name="operator_day_rebuild"),
    path("operator/audit/", operator_views.AuditLogView.as_view(), name="operator_audit"),
    # Tracking domains: a section of the operator's settings page, the advertiser's own page; shared actions.
    path("tracking-domains/add",
         domain_views.TrackingDomainAddView.as_view(settings_view=operator_views.NetworkSettingsView),
         name="tracking_domain_add"),
    path("tracking-domains/<int:pk>/verify", domain_views.TrackingDomainActionView.as_view(action="verify"),
         name="tracking_domain_verify"),
    path("tracking-domains/<int:pk>/delete", domain_views.TrackingDomainActionView.as_view(action="delete"),
         name="tracking_domain_delete"),
    # Advertiser
    path("advertiser/", views.AdvertiserDashboardView.as_view(), name="advertiser_dashboard"),
    path("advertiser/tracking-domains/", domain_views.AdvertiserTrackingDomainsView.as_view(),
         name="advertiser_tracking_domains"),
    path("advertiser/integration/", views.ApiKeysView.as_view(roles=ADVERTISER), name="advertiser_integration"),
    path("advertiser/integration/keys/<int:pk>/revoke", views.ApiKeyRevokeView.as_view(roles=ADVERTISER),
         name="advertiser_key_revoke"),
    # Partner (affiliate)
    path("partner/", views.PartnerDashboardView.as_view(), name="partner_dashboard"),
    path("partner/announcements/", views.PartnerAnnouncementsView.as_view(), name="partner_announcements"),
    path("partner/api-keys/", views.ApiKeysView.as_view(roles=AFFILIATE), name="partner_integration"),
    path("partner/api-keys/<int:pk>/revoke", views.ApiKeyRevokeView.as_view(roles=AFFILIATE),
         name="partner_key_revoke"),
]
