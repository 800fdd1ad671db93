"""E-mails to affiliates about their commissions (sent by a task after the change commits): one e-mail per
commission, or one digest per affiliate for the commissions of a batch (an import's chunk, a postback batch)."""

from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

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

# A digest's subject (and its body's first line): how many commissions, the total per currency.
DIGEST_SUBJECTS = {
    "commission.created": ngettext_lazy("%(count)s new commission: %(total)s",
                                        "%(count)s new commissions: %(total)s", "count"),
    "commission.rejected": ngettext_lazy("%(count)s commission rejected: %(total)s",
                                         "%(count)s commissions rejected: %(total)s", "count"),
}
DIGEST_OTHER = ngettext_lazy("%(count)s commission update (%(event)s): %(total)s",
                             "%(count)s commission updates (%(event)s): %(total)s", "count")
_MARKER = 987654321987654321  # stands for a commission's id in the page path reversed once per batch


class Links:
    """The absolute links of one batch of e-mails: the site and each page's path, reversed once for the batch."""

    def __init__(self):
        head, tail = reverse("partner_commission", args=[_MARKER]).split(str(_MARKER))
        self._one = (f"{settings.SITE_URL}{head}", tail)
        self._all = f"{settings.SITE_URL}{reverse('partner_commissions')}"

    def commission(self, commission) -> str:
        """The affiliate's page explaining this commission."""
        head, tail = self._one
        return f"{head}{commission.pk}{tail}?network={commission.network.slug}"

    def commissions(self, network) -> str:
        """The affiliate's list of commissions."""
        return f"{self._all}?network={network.slug}"


def _order_id(commission) -> str:
    return commission.conversion.order_id if commission.conversion_id else ""


def commission_email(commission, event: str, amount=None, links: Links | None = None) -> tuple[str, str]:
    """Subject and body in the affiliate's language (their choice, else the network's)."""
    with language_of(user=commission.affiliate.membership.user, network=commission.network):
        return _commission_email(commission, event, amount, links or Links())


def _commission_email(commission, event: str, amount, links: Links) -> tuple[str, str]:
    amount = format_amount(commission.remaining_amount if amount is None else amount, commission.currency)
    program = commission.program.name
    subjects = ADJUSTMENT_SUBJECTS if commission.kind == "adjustment" and event in ADJUSTMENT_SUBJECTS else SUBJECTS
    subject = str(subjects.get(event, _("Commission update: %(amount)s (%(program)s)"))) % {
        "amount": amount, "program": program}
    lines = [
        _("Hello %(name)s,") % {"name": commission.affiliate.name},
        "",
        _("Commission #%(id)s in %(program)s: %(event)s.") % {"id": commission.pk, "program": program,
                                                                "event": _event_word(event)},
        _("Amount: %(amount)s") % {"amount": amount},
    ]
    if commission.adjusts_id:
        lines.append(_("Adjusts commission #%(id)s to the tier rate reached in the period.")
                     % {"id": commission.adjusts_id})
    if commission.conversion_id:
        lines.append(_("Order: %(order)s") % {"order": _order_id(commission)})
    if commission.reason:
        lines.append(_("Reason: %(reason)s") % {"reason": commission.reason})
    if commission.reversed_amount:
        lines.append(_("Reversed so far: %(amount)s")
                     % {"amount": format_amount(commission.reversed_amount, commission.currency)})
    lines += ["", _("Why this amount (click, rule, calculation, history): %(url)s")
              % {"url": links.commission(commission)}]
    return subject, "\n".join(str(line) for line in lines) + "\n"


def _event_word(event: str) -> str:
    return str(EVENTS.get(event) or event.removeprefix("commission.").replace("_", " "))


def commission_url(commission) -> str:
    """The affiliate's page explaining this commission, as an absolute link."""
    return Links().commission(commission)


def commission_email_message(commission, event: str, amount=None, links: Links | None = None) -> EmailMessage:
    subject, body = commission_email(commission, event, amount, links)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [commission.affiliate.email])


def commissions_digest(entries: list[tuple], event: str, links: Links) -> tuple[str, str]:
    """One affiliate's e-mail about several commissions of one transition (`entries`: (commission, amount or None
    for its remaining amount)): each commission with its amount, the total per currency, a link to the list. In
    the affiliate's language."""
    first = entries[0][0]
    with language_of(user=first.affiliate.membership.user, network=first.network):
        totals: dict[str, Decimal] = {}
        lines = []
        for commission, amount in entries:
            amount = commission.remaining_amount if amount is None else amount
            totals[commission.currency] = totals.get(commission.currency, Decimal(0)) + amount
            parts = [f"#{commission.pk} {commission.program.name}"]
            if commission.conversion_id:
                parts.append(str(_("order %(order)s") % {"order": _order_id(commission)}))
            if commission.adjusts_id:
                parts.append(str(_("tier bonus for #%(id)s") % {"id": commission.adjusts_id}))
            line = f"{', '.join(parts)}: {format_amount(amount, commission.currency)}"
            lines.append(f"{line} ({commission.reason})" if commission.reason else line)
        total = " + ".join(format_amount(value, currency) for currency, value in sorted(totals.items()))
        template = DIGEST_SUBJECTS.get(event, DIGEST_OTHER)
        subject = str(template % {"count": len(entries), "total": total, "event": _event_word(event)})
        body = [
            _("Hello %(name)s,") % {"name": first.affiliate.name},
            "",
            f"{subject}.",
            "",
            *lines,
            "",
            *(_("Total: %(amount)s") % {"amount": format_amount(value, currency)}
              for currency, value in sorted(totals.items())),
            "",
            _("All your commissions, and why each amount: %(url)s") % {"url": links.commissions(first.network)},
        ]
        return subject, "\n".join(str(line) for line in body) + "\n"


def commission_email_messages(entries: list[tuple]) -> list[EmailMessage]:
    """The e-mails of a batch (`entries`: (commission, event, amount or None)): one per affiliate and transition,
    a digest when it names several commissions, the single commission's e-mail otherwise. Links are built once."""
    links = Links()
    groups: dict[tuple, list[tuple]] = {}
    for commission, event, amount in entries:
        groups.setdefault((commission.network_id, commission.affiliate_id, event), []).append((commission, amount))
    messages = []
    for (_network_id, _affiliate_id, event), group in groups.items():
        commission = group[0][0]
        if len(group) == 1:
            messages.append(commission_email_message(commission, event, group[0][1], links))
            continue
        subject, body = commissions_digest(group, event, links)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [commission.affiliate.email]))
    return messages
