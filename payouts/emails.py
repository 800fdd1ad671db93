"""E-mails to affiliates about their payouts (sent by a task after the change commits)."""

from django.conf import settings
from django.core.mail import send_mail

from core.money import format_amount

SUBJECTS = {
    "payout.paid": "Payout sent: {amount}",
    "payout.failed": "Payout failed: {amount}",
}


def payout_email(payout, event: str) -> tuple[str, str]:
    amount = format_amount(payout.net, payout.currency)
    subject = SUBJECTS.get(event, "Payout update: {amount}").format(amount=amount)
    lines = [
        f"Hello {payout.affiliate.name},",
        "",
        f"Payout #{payout.pk}: {event.removeprefix('payout.')}.",
        f"Amount: {format_amount(payout.amount, payout.currency)}",
    ]
    if payout.fee:
        lines.append(f"Fee: {format_amount(payout.fee, payout.currency)}")
    lines.append(f"Sent: {amount} ({payout.get_method_kind_display()})")
    if event == "payout.failed":
        lines += [f"Reason: {payout.failure_reason or 'not given'}",
                  "The amount is back in your approved balance and will be paid with the next payout."]
    return subject, "\n".join(lines) + "\n"


def payout_email_send(payout, event: str) -> int:
    subject, body = payout_email(payout, event)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [payout.affiliate.email])
