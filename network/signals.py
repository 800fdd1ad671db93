"""What the network app tells later apps about affiliates, without depending on them (tracking turns these into
webhook events).

- `affiliate_created(sender=Affiliate, affiliate=Affiliate)`: sent inside the transaction that created it.
- `affiliate_approved(sender=Affiliate, affiliate=Affiliate)`: sent inside the transaction that moved a pending
  affiliate to active.
"""

from django.dispatch import Signal

affiliate_created = Signal()
affiliate_approved = Signal()
