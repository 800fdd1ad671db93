"""E-mails to affiliates about their payouts (sent by a task after the change commits)."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext_lazy as _

from core.money import format_amount
from network.i18n import language_of

SUBJECTS = {
    "payout.paid": _("Payout sent: %(amount)s"),
    "payout.failed": _("Payout failed: %(amount)s"),
}
EVENTS = {"payout.paid": _("paid"), "payout.failed": _("failed")}


def payout_email(payout, event: str) -> tuple[str, str]:
    """Subject and body in the affiliate's language (their choice, else the network's)."""
    with language_of(user=payout.affiliate.membership.user, network=payout.network):
        return _payout_email(payout, event)


def _payout_email(payout, event: str) -> tuple[str, str]:
    amount = format_amount(payout.net, payout.currency)
    subject = str(SUBJECTS.get(event, _("Payout update: %(amount)s"))) % {"amount": amount}
    lines = [
        _("Hello %(name)s,") % {"name": payout.affiliate.name},
        "",
        _("Payout #%(id)s: %(event)s.") % {"id": payout.pk,
                                            "event": EVENTS.get(event) or event.removeprefix("payout.")},
        _("Amount: %(amount)s") % {"amount": format_amount(payout.amount, payout.currency)},
    ]
    if payout.fee:
        lines.append(_("Fee: %(amount)s") % {"amount": format_amount(payout.fee, payout.currency)})
    lines.append(_("Sent: %(amount)s (%(method)s)") % {"amount": amount, "method": payout.get_method_kind_display()})
    if event == "payout.failed":
        lines += [_("Reason: %(reason)s") % {"reason": payout.failure_text or _("not given")},
                  _("The amount is back in your approved balance and will be paid with the next payout.")]
    return subject, "\n".join(str(line) for line in lines) + "\n"


def payout_email_send(payout, event: str) -> int:
    subject, body = payout_email(payout, event)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [payout.affiliate.email])
