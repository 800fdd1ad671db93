"""E-mails to affiliates about their commissions (sent by a task after the change commits)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.money import format_amount
from network.i18n import language_of

SUBJECTS = {
    "commission.created": _("New commission: %(amount)s (%(program)s)"),
    "commission.approved": _("Commission approved: %(amount)s (%(program)s)"),
    "commission.rejected": _("Commission rejected: %(amount)s (%(program)s)"),
    "commission.reversed": _("Commission reversed: %(amount)s (%(program)s)"),
    "commission.partially_reversed": _("Commission partly reversed: %(amount)s (%(program)s)"),
    "commission.on_hold": _("Commission held for review: %(amount)s (%(program)s)"),
    "commission.released": _("Commission released from review: %(amount)s (%(program)s)"),
    "commission.paid": _("Commission paid: %(amount)s (%(program)s)"),
}
# What happened, in the body's first line.
EVENTS = {
    "commission.created": _("created"),
    "commission.approved": _("approved"),
    "commission.rejected": _("rejected"),
    "commission.reversed": _("reversed"),
    "commission.partially_reversed": _("partially reversed"),
    "commission.on_hold": _("on hold"),
    "commission.released": _("released"),
    "commission.paid": _("paid"),
}


# A tier adjustment (the period's true-up) is a commission of its own: its creation says what it is.
ADJUSTMENT_SUBJECTS = {"commission.created": _("Tier bonus for the period: %(amount)s (%(program)s)")}


def commission_email(commission, event: str, amount=None) -> tuple[str, str]:
    """Subject and body in the affiliate's language (their choice, else the network's)."""
    with language_of(user=commission.affiliate.membership.user, network=commission.network):
        return _commission_email(commission, event, amount)


def _commission_email(commission, event: str, amount=None) -> tuple[str, str]:
    amount = format_amount(commission.remaining_amount if amount is None else amount, commission.currency)
    program = commission.program.name
    subjects = ADJUSTMENT_SUBJECTS if commission.kind == "adjustment" and event in ADJUSTMENT_SUBJECTS else SUBJECTS
    subject = str(subjects.get(event, _("Commission update: %(amount)s (%(program)s)"))) % {
        "amount": amount, "program": program}
    what = EVENTS.get(event) or event.removeprefix("commission.").replace("_", " ")
    lines = [
        _("Hello %(name)s,") % {"name": commission.affiliate.name},
        "",
        _("Commission #%(id)s in %(program)s: %(event)s.") % {"id": commission.pk, "program": program, "event": what},
        _("Amount: %(amount)s") % {"amount": amount},
    ]
    if commission.adjusts_id:
        lines.append(_("Adjusts commission #%(id)s to the tier rate reached in the period.")
                     % {"id": commission.adjusts_id})
    if commission.conversion_id:
        lines.append(_("Order: %(order)s") % {"order": commission.conversion.order_id})
    if commission.reason:
        lines.append(_("Reason: %(reason)s") % {"reason": commission.reason})
    if commission.reversed_amount:
        lines.append(_("Reversed so far: %(amount)s")
                     % {"amount": format_amount(commission.reversed_amount, commission.currency)})
    lines += ["", _("Why this amount (click, rule, calculation, history): %(url)s")
              % {"url": commission_url(commission)}]
    return subject, "\n".join(str(line) for line in lines) + "\n"


def commission_url(commission) -> str:
    """The affiliate's page explaining this commission, as an absolute link."""
    return f"{settings.SITE_URL}{reverse('partner_commission', args=[commission.pk])}?network={commission.network.slug}"


def commission_email_message(commission, event: str, amount=None) -> EmailMessage:
    subject, body = commission_email(commission, event, amount)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [commission.affiliate.email])

