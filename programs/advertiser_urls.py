"""The advertiser's program pages (included at the root in config/urls.py)."""

from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _

from network import navigation

from . import advertiser_views as views
from .advertiser_forms import ID_PATTERN

navigation.register("advertiser", _("Programs"), "advertiser_programs", order=20)
PK = f"(?P<pk>{ID_PATTERN})"

urlpatterns = [
    path("advertiser/programs/", views.ProgramListView.as_view(), name="advertiser_programs"),
    path("advertiser/programs/new/", views.ProgramFormView.as_view(), name="advertiser_program_new"),
    re_path(rf"^advertiser/programs/{PK}/$", views.ProgramDetailView.as_view(), name="advertiser_program"),
    re_path(rf"^advertiser/programs/{PK}/edit/$", views.ProgramFormView.as_view(), name="advertiser_program_edit"),
    re_path(rf"^advertiser/programs/{PK}/status$", views.ProgramStatusView.as_view(),
            name="advertiser_program_status"),
    re_path(rf"^advertiser/programs/{PK}/creatives$", views.CreativeCreateView.as_view(),
            name="advertiser_creative_new"),
    re_path(rf"^advertiser/creatives/{PK}/toggle$", views.CreativeToggleView.as_view(),
            name="advertiser_creative_toggle"),
    re_path(rf"^advertiser/programs/{PK}/coupons$", views.CouponCreateView.as_view(), name="advertiser_coupon_new"),
    re_path(rf"^advertiser/coupons/{PK}/deactivate$", views.CouponDeactivateView.as_view(),
            name="advertiser_coupon_deactivate"),
    re_path(rf"^advertiser/programs/{PK}/invite$", views.InviteView.as_view(), name="advertiser_program_invite"),
    re_path(rf"^advertiser/partnerships/{PK}/caps/$", views.PartnershipCapsView.as_view(),
            name="advertiser_partnership_caps"),
    re_path(rf"^advertiser/partnerships/{PK}/(?P<verb>approve|reject|suspend)$",
            views.PartnershipDecideView.as_view(), name="advertiser_partnership_decide"),
]
