"""Fraud signals in words: each recorded signal (code and evidence, see tracking.fraud) as a sentence for the
review pages. Names and e-mails are read when the page is shown; the conversion stores only ids and hashes."""

import zoneinfo
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.dates import format_when
from network.models import Affiliate, Membership, Network
from programs.targeting import country_name

TITLES = {
    "too_fast": gettext_lazy("Too fast"),
    "bot_click": gettext_lazy("Bot click"),
    "duplicate_click": gettext_lazy("Duplicate click"),
    "velocity": gettext_lazy("IP velocity"),
    "self_referral": gettext_lazy("Self-referral"),
    "duplicate_order": gettext_lazy("Duplicate order"),
    "currency_mismatch": gettext_lazy("Currency mismatch"),
    "off_target": gettext_lazy("Outside the targeting"),
}
# Conversions recorded before evidence was kept have codes only.
WITHOUT_EVIDENCE = {
    "too_fast": gettext_lazy("The conversion came very soon after its click."),
    "bot_click": gettext_lazy("The click came from a bot or crawler user agent."),
    "duplicate_click": gettext_lazy("The same visitor had just clicked this link."),
    "velocity": gettext_lazy("Too many clicks from this visitor on this program."),
    "self_referral": gettext_lazy("The buyer matches the affiliate itself."),
    "duplicate_order": gettext_lazy("The same buyer or click already converted for this amount today."),
    "currency_mismatch": gettext_lazy("The conversion's currency differs from its program's."),
    "off_target": gettext_lazy("The click was outside the program's targeting; it earns nothing."),
}
OFF_TARGET_REASONS = {
    "country_blocked": gettext_lazy("The click came from %(country)s, a country the program blocks; it earns nothing."),
    "country_not_allowed": gettext_lazy("The click came from %(country)s, not one of the countries the program "
                                        "allows; it earns nothing."),
    "device_not_allowed": gettext_lazy("The click came from a %(device)s device, a type the program does not allow; "
                                       "it earns nothing."),
}
DEVICE_WORDS = {"desktop": gettext_lazy("desktop"), "mobile": gettext_lazy("mobile"), "tablet": gettext_lazy("tablet")}


def title(code: str) -> str:
    return str(TITLES.get(code, code))


def _day(value: str, zone: str | None) -> str:
    """The day in the network's time zone (the active one when unknown)."""
    try:
        at = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return ""
    if not timezone.is_aware(at):
        return format_when(at.date(), "date")
    return format_when(at, "date", tzinfo=zoneinfo.ZoneInfo(zone) if zone else None)


def _self_referral(detail: dict, affiliates: dict[int, str], members: dict[int, str], zone: str | None) -> str:
    affiliate = affiliates.get(detail.get("affiliate"), _("the affiliate"))
    member = members.get(detail.get("membership"), _("a member"))
    match = detail.get("match")
    if match == "affiliate_email":
        return _("The buyer's e-mail matches affiliate %(affiliate)s's own e-mail.") % {"affiliate": affiliate}
    if match == "member_email":
        return _("The buyer's e-mail matches the login of %(member)s, a member of affiliate %(affiliate)s.") % {
            "member": member, "affiliate": affiliate}
    if match == "member_address":
        values = {"member": member, "affiliate": affiliate, "day": _day(detail.get("seen_at", ""), zone)}
        if detail.get("source") == "api":
            return _("On %(day)s, %(member)s (affiliate %(affiliate)s) called the API from the buyer's "
                     "address.") % values
        return _("On %(day)s, %(member)s (affiliate %(affiliate)s) signed in from the buyer's address.") % values
    return str(WITHOUT_EVIDENCE["self_referral"])


def sentence(detail: dict, *, affiliates: dict[int, str] | None = None, members: dict[int, str] | None = None,
             zone: str | None = None) -> str:
    code = detail.get("code", "")
    if code == "too_fast" and "limit" in detail:
        return ngettext("Converted %(seconds)s second after its click; the minimum is %(limit)s.",
                        "Converted %(seconds)s seconds after its click; the minimum is %(limit)s.",
                        detail.get("seconds", 0)) % detail
    if code == "duplicate_click" and "window_seconds" in detail:
        return _("The same visitor clicked this link within the previous %(window_seconds)s seconds.") % detail
    if code == "velocity" and "clicks" in detail:
        return _("%(clicks)s clicks from this visitor in %(window_minutes)s minutes on this program; the limit is "
                 "%(limit)s.") % detail
    if code == "duplicate_order" and "window_hours" in detail:
        return _("The same buyer or click converted for the same amount within %(window_hours)s hours under "
                 "another order id.") % detail
    if code == "self_referral":
        return _self_referral(detail, affiliates or {}, members or {}, zone)
    if code == "off_target" and detail.get("reason") in OFF_TARGET_REASONS:
        return off_target_sentence(detail)
    return str(WITHOUT_EVIDENCE.get(code, code))


def off_target_sentence(detail: dict) -> str:
    """Why an off-target click earns nothing: the reason with the visitor's country or device."""
    country = detail.get("country") or ""
    return str(OFF_TARGET_REASONS[detail["reason"]]) % {
        "country": f"{country_name(country)} ({country})" if country else _("an unknown country"),
        "device": str(DEVICE_WORDS.get(detail.get("device") or "", detail.get("device") or _("unknown")))}


def evidence(conversion) -> list[dict]:
    """[{code, title, text}] for each of the conversion's signals (its evidence when recorded, else the codes)."""
    details = list(conversion.signal_details or [])
    recorded = {detail.get("code") for detail in details}
    details += [{"code": code} for code in conversion.fraud_signals or [] if code not in recorded]
    affiliate_ids = {d["affiliate"] for d in details if d.get("code") == "self_referral" and d.get("affiliate")}
    member_ids = {d["membership"] for d in details if d.get("code") == "self_referral" and d.get("membership")}
    affiliates = dict(Affiliate.objects.for_network(conversion.network_id).filter(pk__in=affiliate_ids)
                      .values_list("id", "name")) if affiliate_ids else {}
    members = dict(Membership.objects.for_network(conversion.network_id).filter(pk__in=member_ids)
                   .values_list("id", "user__email")) if member_ids else {}
    zone = None
    if any(d.get("seen_at") for d in details):
        zone = Network.objects.filter(pk=conversion.network_id).values_list("timezone", flat=True).first()
    return [{"code": d.get("code", ""), "title": title(d.get("code", "")),
             "text": sentence(d, affiliates=affiliates, members=members, zone=zone)} for d in details]
