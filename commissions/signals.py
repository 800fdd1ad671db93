"""What commissions' services tell its task module without importing it (tasks.py imports the services).

- `commission_emails_due(sender=Commission, items=[[commission id, event, amount], ...])`: sent after the commit
  of a transition, with the affiliates' e-mails it calls for; `tasks.py` queues them as one task.
"""

from django.dispatch import Signal

commission_emails_due = Signal()
