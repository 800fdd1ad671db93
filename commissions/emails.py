"""E-mails to affiliates about their commissions (sent by a task after the change commits)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from core.money import format_amount

SUBJECTS = {
    "commission.created": "New commission: {amount} ({program})",
    "commission.approved": "Commission approved: {amount} ({program})",
    "commission.rejected": "Commission rejected: {amount} ({program})",
    "commission.reversed": "Commission reversed: {amount} ({program})",
    "commission.partially_reversed": "Commission partly reversed: {amount} ({program})",
    "commission.on_hold": "Commission held for review: {amount} ({program})",
    "commission.released": "Commission released from review: {amount} ({program})",
    "commission.paid": "Commission paid: {amount} ({program})",
}


# A tier adjustment (the period's true-up) is a commission of its own: its creation says what it is.
ADJUSTMENT_SUBJECTS = {"commission.created": "Tier bonus for the period: {amount} ({program})"}


def commission_email(commission, event: str, amount=None) -> tuple[str, str]:
    amount = format_amount(commission.remaining_amount if amount is None else amount, commission.currency)
    program = commission.program.name
    subjects = ADJUSTMENT_SUBJECTS if commission.kind == "adjustment" and event in ADJUSTMENT_SUBJECTS else SUBJECTS
    subject = subjects.get(event, "Commission update: {amount} ({program})").format(amount=amount, program=program)
    lines = [
        f"Hello {commission.affiliate.name},",
        "",
        f"Commission #{commission.pk} in {program}: {event.removeprefix('commission.').replace('_', ' ')}.",
        f"Amount: {amount}",
    ]
    if commission.adjusts_id:
        lines.append(f"Adjusts commission #{commission.adjusts_id} to the tier rate reached in the period.")
    if commission.conversion_id:
        lines.append(f"Order: {commission.conversion.order_id}")
    if commission.reason:
        lines.append(f"Reason: {commission.reason}")
    if commission.reversed_amount:
        lines.append(f"Reversed so far: {format_amount(commission.reversed_amount, commission.currency)}")
    lines += ["", f"Why this amount (click, rule, calculation, history): {commission_url(commission)}"]
    return subject, "\n".join(lines) + "\n"


def commission_url(commission) -> str:
    """The affiliate's page explaining this commission, as an absolute link."""
    return f"{settings.SITE_URL}{reverse('partner_commission', args=[commission.pk])}?network={commission.network.slug}"


def commission_email_message(commission, event: str, amount=None) -> EmailMessage:
    subject, body = commission_email(commission, event, amount)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [commission.affiliate.email])

