"""The partner portal's program pages (marketplace, my programs, links, creatives) and their nav items."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import partner_views as views

urlpatterns = [
    path("partner/marketplace/", views.MarketplaceView.as_view(), name="partner_marketplace"),
    path("partner/marketplace/<int:pk>/apply", views.ApplyView.as_view(), name="partner_program_apply"),
    path("partner/programs/", views.MyProgramsView.as_view(), name="partner_programs"),
    path("partner/links/", views.LinkBuilderView.as_view(), name="partner_links"),
    path("partner/links/<int:pk>/archive", views.LinkArchiveView.as_view(), name="partner_link_archive"),
    path("partner/creatives/", views.CreativesView.as_view(), name="partner_creatives"),
]

navigation.register("partner", _("Marketplace"), "partner_marketplace", order=10)
navigation.register("partner", _("My programs"), "partner_programs", order=20)
navigation.register("partner", _("Link builder"), "partner_links", order=30)
navigation.register("partner", _("Creatives"), "partner_creatives", order=40)
