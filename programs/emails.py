"""Notification e-mails for partnership events, sent after the deciding transaction commits."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from .models import Partnership

logger = logging.getLogger(__name__)


def _send_later(*, to: str, subject: str, body: str) -> None:
    def send():
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        except Exception:  # a mail server outage must not fail a decision already committed
            logger.exception("Could not send %r to %s", subject, to)

    if to:
        transaction.on_commit(send)


def partnership_applied(partnership: Partnership) -> None:
    program, affiliate = partnership.program, partnership.affiliate
    if partnership.status == Partnership.Status.APPROVED:
        subject = f"{affiliate.name} joined {program.name}"
        body = f"{affiliate.name} ({affiliate.email}) joined your program {program.name} (automatic approval)."
    else:
        subject = f"{affiliate.name} applied to {program.name}"
        body = (
            f"{affiliate.name} ({affiliate.email}) applied to your program {program.name}.\n"
            f"Approve or reject the application (partnership {partnership.pk}) in your dashboard or with\n"
            f"POST /api/v1/partnerships/{partnership.pk}/approve or /reject."
        )
    _send_later(to=program.advertiser.email, subject=subject, body=body)


def partnership_decided(partnership: Partnership) -> None:
    program = partnership.program
    status = partnership.status
    lines = {
        Partnership.Status.APPROVED: f"You are approved in {program.name}. Create tracking links and start promoting.",
        Partnership.Status.REJECTED: f"Your application to {program.name} was not accepted.",
        Partnership.Status.SUSPENDED: f"Your partnership in {program.name} is suspended; its links no longer earn.",
    }
    body = lines[status] + (f"\n\nNote from the advertiser: {partnership.note}" if partnership.note else "")
    _send_later(to=partnership.affiliate.email, subject=f"{program.name}: partnership {status}", body=body)


def partnership_invited(partnership: Partnership) -> None:
    program = partnership.program
    body = (
        f"{program.advertiser.name} invites you to promote {program.name}.\n"
        f"Accept with POST /api/v1/programs/{program.pk}/apply, or in your partner portal."
    )
    _send_later(to=partnership.affiliate.email, subject=f"Invitation to {program.name}", body=body)
