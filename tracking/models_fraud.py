"""Where affiliates' members were seen: keyed hashes of the addresses they signed in or called the API from,
for the self-referral signal (a buyer at one of them is the affiliate itself). Kept like raw clicks."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from network.models import Affiliate, Membership, TenantModel


class MemberAddress(TenantModel):
    """One address (keyed hash, as the click's ip_hash: never the address) an affiliate's member used."""

    class Source(models.TextChoices):
        SIGN_IN = "sign_in", _("Sign-in")
        API = "api", _("API call")

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    address_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=Source.choices)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            # Leads with (network, affiliate, address_hash): the self-referral look-up.
            models.UniqueConstraint(fields=["network", "affiliate", "address_hash", "membership", "source"],
                                    name="member_address_unique"),
        ]
        indexes = [models.Index(fields=["network", "last_seen_at"], name="member_address_seen")]

    def __str__(self) -> str:
        return f"{self.address_hash[:12]}… ({self.source}, affiliate {self.affiliate_id})"
