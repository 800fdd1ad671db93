"""What payouts' transitions tell its task module without importing it (tasks.py imports batches -> transitions).

- `payout_email_due(sender=Payout, payout_id=int, event=str, network_id=int)`: sent after the commit of a payout's
  transition (paid, failed); `tasks.py` queues the affiliate's e-mail.
"""

from django.dispatch import Signal

payout_email_due = Signal()
