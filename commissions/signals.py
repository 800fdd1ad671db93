"""What commissions' services tell its task module without importing it (tasks.py imports the services).

- `commission_emails_due(sender=Commission, items=[[commission id, event, amount], ...], network_id=int)`: sent
  after the commit of a transition, once per network, with the affiliates' e-mails it calls for; `tasks.py` queues
  them as one task.
"""

from django.dispatch import Signal

commission_emails_due = Signal()
