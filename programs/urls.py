from core.api import Router

from . import api

router = Router()
router.register("programs", api.ProgramViewSet, basename="program")
router.register("partnerships", api.PartnershipViewSet, basename="partnership")
router.register("links", api.LinkViewSet, basename="link")
router.register("creatives", api.CreativeViewSet, basename="creative")
router.register("coupons", api.CouponViewSet, basename="coupon")

urlpatterns = router.urls
