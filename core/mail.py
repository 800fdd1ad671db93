"""E-mails sent once the transaction that decided them commits: a rolled-back decision sends nothing, and a mail
server outage never undoes one already committed."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)


def send_after_commit(mails: list[tuple[str, str, str]]) -> None:
    """Send each (subject, body, address) after the current transaction commits (at once outside one)."""
    mails = [(str(subject), str(body), address) for subject, body, address in mails if address]

    def send():
        for subject, body, address in mails:
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
            except Exception:
                logger.exception("Could not send %r to %s", subject, address)

    if mails:
        transaction.on_commit(send)
