"""Notification e-mails for partnership events, sent after the deciding transaction commits."""

from django.utils.translation import gettext_lazy as _

from core.mail import send_after_commit
from network.i18n import language_of

from .models import Partnership


def _send_later(*, to: str, subject: str, body: str) -> None:
    send_after_commit([(subject, body, to)])


def partnership_applied(partnership: Partnership) -> None:
    program, affiliate = partnership.program, partnership.affiliate
    words = {"affiliate": affiliate.name, "email": affiliate.email, "program": program.name, "id": partnership.pk}
    with language_of(user=program.advertiser.membership.user, network=program.network):
        if partnership.status == Partnership.Status.APPROVED:
            subject = _("%(affiliate)s joined %(program)s") % words
            body = _("%(affiliate)s (%(email)s) joined your program %(program)s (automatic approval).") % words
        else:
            subject = _("%(affiliate)s applied to %(program)s") % words
            body = _(
                "%(affiliate)s (%(email)s) applied to your program %(program)s.\n"
                "Approve or reject the application (partnership %(id)s) in your dashboard or with\n"
                "POST /api/v1/partnerships/%(id)s/approve or /reject."
            ) % words
    _send_later(to=program.advertiser.email, subject=subject, body=body)


def partnership_decided(partnership: Partnership) -> None:
    program = partnership.program
    status = partnership.status
    words = {"program": program.name}
    with language_of(user=partnership.affiliate.membership.user, network=program.network):
        lines = {
            Partnership.Status.APPROVED: _("You are approved in %(program)s. Create tracking links and start "
                                           "promoting.") % words,
            Partnership.Status.REJECTED: _("Your application to %(program)s was not accepted.") % words,
            Partnership.Status.SUSPENDED: _("Your partnership in %(program)s is suspended; its links no longer "
                                            "earn.") % words,
        }
        body = lines[status] + (
            "\n\n" + _("Note from the advertiser: %(note)s") % {"note": partnership.note} if partnership.note else "")
        subject = _("%(program)s: partnership %(status)s") % {
            "program": program.name, "status": str(partnership.get_status_display()).lower()}
    _send_later(to=partnership.affiliate.email, subject=subject, body=body)


def partnership_invited(partnership: Partnership) -> None:
    program = partnership.program
    words = {"advertiser": program.advertiser.name, "program": program.name, "id": program.pk}
    with language_of(user=partnership.affiliate.membership.user, network=program.network):
        body = _(
            "%(advertiser)s invites you to promote %(program)s.\n"
            "Accept with POST /api/v1/programs/%(id)s/apply, or in your partner portal."
        ) % words
        subject = _("Invitation to %(program)s") % words
    _send_later(to=partnership.affiliate.email, subject=subject, body=body)


CAP_LABELS = {"conversions_day": _("conversions per day"), "conversions_month": _("conversions per month"),
              "payout_month": _("payout budget per month")}
ACTION_LINES = {
    "hold": _("Conversions past the cap are recorded and their commissions held for review."),
    "reject": _("Conversions past the cap are recorded without a commission."),
    "pause": _("The program's clicks go to its fallback URL (or its landing page, untracked) until the period "
               "resets."),
}


def cap_alert(*, program, partnership_id: int | None, affiliate_name: str, measure: str, level: int, limit: str,
              used: str, action: str, period_start, period_end_local) -> None:
    """80 % or 100 % of a cap or budget reached (once per period and cap: programs.caps keeps the level sent)."""
    with language_of(user=program.advertiser.membership.user, network=program.network):
        subject, body = _cap_alert(program=program, partnership_id=partnership_id, affiliate_name=affiliate_name,
                                   measure=measure, level=level, limit=limit, used=used, action=action,
                                   period_start=period_start, period_end_local=period_end_local)
    _send_later(to=program.advertiser.email, subject=subject, body=body)


def _cap_alert(*, program, partnership_id, affiliate_name, measure, level, limit, used, action, period_start,
               period_end_local) -> tuple[str, str]:
    words = {"program": program.name, "affiliate": affiliate_name, "id": partnership_id, "used": used,
             "limit": limit, "currency": program.currency, "level": level, "measure": CAP_LABELS[measure]}
    if partnership_id:
        words["cap"] = _("The cap of %(program)s for %(affiliate)s (partnership %(id)s)") % words
    else:
        words["cap"] = _("The cap of %(program)s") % words
    amounts = (_("%(used)s of %(limit)s %(currency)s") if measure == "payout_month" else _("%(used)s of %(limit)s"))
    words["amounts"] = amounts % words
    words["reached"] = _("reached") if level >= 100 else _("%(level)s %% used") % words
    words["start"] = period_start.isoformat()
    words["end"] = f"{period_end_local:%Y-%m-%d %H:%M %Z}"
    where = (_("Change the caps on the program's page or with PATCH /api/v1/programs/%(program_id)s (or "
               "/api/v1/partnerships/%(id)s).") if partnership_id
             else _("Change the caps on the program's page or with PATCH /api/v1/programs/%(program_id)s."))
    body = (
        _("%(cap)s: %(measure)s is %(reached)s (%(amounts)s) in the period from %(start)s, until %(end)s.") % words
        + "\n" + (str(ACTION_LINES.get(action, "")) if level >= 100 else "")
        + "\n" + where % {"program_id": program.pk, "id": partnership_id}
    )
    subject = _("%(program)s: %(measure)s %(reached)s") % words
    return str(subject), str(body)
