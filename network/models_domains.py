"""Branded tracking domains: a host name of the network (or of one advertiser's programs) that CNAMEs to the
platform; once verified, the network's links are built on it and `/c/` on it resolves only the network's links."""

from django.db import models
from django.db.models import Q

from .models import Advertiser, TenantModel


class TrackingDomain(TenantModel):
    # Advertisers see and manage their own domains (when the network lets them); operators all of the network's.
    party_fields = {"advertiser": "advertiser"}

    # Null: the whole network's domain; set: used for that advertiser's programs only.
    advertiser = models.ForeignKey(Advertiser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Lower case, ASCII (an internationalized name is stored in its punycode form), no trailing dot.
    domain = models.CharField(max_length=253)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "domain"], name="tracking_domain_unique_per_network"),
            # A host routes to one network: whoever proves it first (DNS) holds it.
            models.UniqueConstraint(fields=["domain"], condition=Q(verified_at__isnull=False),
                                    name="tracking_domain_unique_verified"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def verified(self) -> bool:
        return self.verified_at is not None
