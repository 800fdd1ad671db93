"""The image pixel's token: one per advertiser, stored so it can be rotated."""

from django.db import models

from network.models import Advertiser, TenantModel


class PixelToken(TenantModel):
    """What authenticates an advertiser's image pixel. Public by nature (it sits in the merchant's page), so it
    can only record conversions for this advertiser; rotating it makes the old one an unknown pixel."""

    party_fields = {"advertiser": "advertiser"}

    advertiser = models.OneToOneField(Advertiser, on_delete=models.CASCADE, related_name="pixel_token")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.token[:10]}… ({self.advertiser_id})"
