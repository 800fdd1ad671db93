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


CAP_LABELS = {"conversions_day": "conversions per day", "conversions_month": "conversions per month",
              "payout_month": "payout budget per month"}
ACTION_LINES = {
    "hold": "Conversions past the cap are recorded and their commissions held for review.",
    "reject": "Conversions past the cap are recorded without a commission.",
    "pause": "The program's clicks go to its fallback URL (or its landing page, untracked) until the period resets.",
}


def cap_alert(*, program, partnership_id: int | None, affiliate_name: str, measure: str, level: int, limit: str,
              used: str, action: str, period_start, period_end_local) -> None:
    """80 % or 100 % of a cap or budget reached (once per period and cap: programs.caps keeps the level sent)."""
    who = f" for {affiliate_name} (partnership {partnership_id})" if partnership_id else ""
    amounts = f"{used} of {limit} {program.currency}" if measure == "payout_month" else f"{used} of {limit}"
    reached = "reached" if level >= 100 else f"{level} % used"
    body = (
        f"The cap of {program.name}{who}: {CAP_LABELS[measure]} is {reached} ({amounts}) in the period from "
        f"{period_start.isoformat()}, until {period_end_local:%Y-%m-%d %H:%M %Z}.\n"
        + (ACTION_LINES.get(action, "") if level >= 100 else "")
        + "\nChange the caps on the program's page or with PATCH /api/v1/programs/"
        f"{program.pk}" + (f" (or /api/v1/partnerships/{partnership_id})." if partnership_id else ".")
    )
    subject = f"{program.name}: {CAP_LABELS[measure]} {reached}"
    _send_later(to=program.advertiser.email, subject=subject, body=body)
