"""What the programs app tells later apps about partnerships, without depending on them (tracking turns these
into webhook events).

- `partnership_decided(sender=Partnership, partnership=Partnership)`: sent inside the transaction that approved
  (by hand, automatically, or by accepting an invitation) or rejected it; `partnership.status` says which.
"""

from django.dispatch import Signal

partnership_decided = Signal()
