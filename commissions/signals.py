"""What commissions' services tell its task module without importing it (tasks.py imports the services).

- `commission_emails_due(sender=Commission, items=[[commission id, event, amount], ...], network_id=int)`: sent
  after the commit of a transition, once per network, with the affiliates' e-mails it calls for; `tasks.py` queues
  them as one task.
- `period_sales_lost(sender=Commission, conversion=..., lost=Decimal, cause=REFUNDED|REJECTED, actor=User|None)`:
  sent inside the transaction of a refund or a rejection that leaves the order counting `lost` less towards its
  amount-based tier periods; `retrue.py` (which builds on the services) trues up again a period already trued up.
"""

from django.dispatch import Signal

commission_emails_due = Signal()
period_sales_lost = Signal()
REFUNDED, REJECTED = "refunded", "rejected"  # a `period_sales_lost`'s causes
