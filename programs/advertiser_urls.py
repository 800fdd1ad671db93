"""The advertiser's program pages (included at the root in config/urls.py)."""

from django.urls import path, re_path

from network import navigation

from . import advertiser_views as views

navigation.register("advertiser", "Programs", "advertiser_programs", order=20)

urlpatterns = [
    path("advertiser/programs/", views.ProgramListView.as_view(), name="advertiser_programs"),
    path("advertiser/programs/new/", views.ProgramFormView.as_view(), name="advertiser_program_new"),
    path("advertiser/programs/<int:pk>/", views.ProgramDetailView.as_view(), name="advertiser_program"),
    path("advertiser/programs/<int:pk>/edit/", views.ProgramFormView.as_view(), name="advertiser_program_edit"),
    path("advertiser/programs/<int:pk>/status", views.ProgramStatusView.as_view(), name="advertiser_program_status"),
    path("advertiser/programs/<int:pk>/creatives", views.CreativeCreateView.as_view(),
         name="advertiser_creative_new"),
    path("advertiser/creatives/<int:pk>/toggle", views.CreativeToggleView.as_view(), name="advertiser_creative_toggle"),
    path("advertiser/programs/<int:pk>/coupons", views.CouponCreateView.as_view(), name="advertiser_coupon_new"),
    path("advertiser/coupons/<int:pk>/deactivate", views.CouponDeactivateView.as_view(),
         name="advertiser_coupon_deactivate"),
    path("advertiser/programs/<int:pk>/invite", views.InviteView.as_view(), name="advertiser_program_invite"),
    re_path(r"^advertiser/partnerships/(?P<pk>[0-9]+)/(?P<verb>approve|reject|suspend)$",
            views.PartnershipDecideView.as_view(), name="advertiser_partnership_decide"),
]
