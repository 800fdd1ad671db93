"""What the programs app tells later apps about partnerships, without depending on them (tracking turns these
into webhook events).

- `partnership_decided(sender=Partnership, partnership=Partnership)`: sent inside the transaction that approved
  (by hand, automatically, or by accepting an invitation) or rejected it; `partnership.status` says which.
- `caps_started(sender=Program, program=Program, partnership=Partnership | None)`: sent inside the transaction
  that gave a program (or a partnership, its own) caps where none applied; commissions seeds the current periods'
  counters with what was already delivered in them (`programs.caps.counters_seed`).
"""

from django.dispatch import Signal

partnership_decided = Signal()
caps_started = Signal()
