"""Caps and budgets on the commissions being written (`services._commissions_write`, the one writer, so every way
a conversion arrives is capped alike): which are counted, which are held or rejected past a cap and why, and the
80 % / 100 % alerts (webhook `program.cap_reached` and an e-mail to the advertiser). The counting is programs'
(`programs.caps`)."""

import zoneinfo
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from core.words import HELD_FOR, REJECTED_FOR, reading
from network.models import Affiliate
from programs import caps as program_caps
from programs import emails as program_emails
from programs.models import CapCounter, Program
from tracking import events as event_types
from tracking.outbound import Event, events_emit

from .models import Commission

Status = Commission.Status
CAPPED_KINDS = (Commission.Kind.SALE, Commission.Kind.LEAD)
# Which cap a commission went past: stored in English in its reason (`cap_text`), shown in the reader's language on
# the pages (`cap_words`); one set of sentences for both.
MEASURE_TEXT = {"conversions_day": gettext_noop("%(limit)s conversions per day"),
                "conversions_month": gettext_noop("%(limit)s conversions per month"),
                "payout_month": gettext_noop("a payout budget of %(limit)s %(currency)s per month")}
CAP_REACHED = {program_caps.PARTNERSHIP: gettext_noop("the partnership's cap of %(what)s (%(period)s) was reached"),
               program_caps.PROGRAM: gettext_noop("the program's cap of %(what)s (%(period)s) was reached")}


def cap_text(cap: dict, currency: str, translate=str) -> str:
    """"the program's cap of 100 conversions per day (2026-03-14) was reached": which cap a commission went past,
    in English (`translate=gettext`: in the active language)."""
    scope = program_caps.PARTNERSHIP if cap.get("scope") == program_caps.PARTNERSHIP else program_caps.PROGRAM
    what = translate(MEASURE_TEXT[cap["exceeded"]]) % {"limit": cap["limit"], "currency": currency}
    start = cap.get("period_start") or ""
    period = start if cap["exceeded"] == "conversions_day" else start[:7]
    return translate(CAP_REACHED[scope]) % {"what": what, "period": period}


def cap_words(cap: dict, currency: str) -> str:
    return cap_text(cap, currency, gettext)


_CAP_READINGS = [(msgid, reading(msgid, {"what": ".+", "period": r"[0-9-]+"})) for msgid in CAP_REACHED.values()]
_MEASURE_READINGS = [(msgid, reading(msgid, {"currency": "[A-Z]{3}"})) for msgid in MEASURE_TEXT.values()]


def cap_reason_shown(text: str) -> str | None:
    """The reader's language for a stored `cap_text` (None: not one), on the lists that show a commission's reason."""
    for msgid, pattern in _CAP_READINGS:
        if found := pattern.fullmatch(text):
            for measure, measured in _MEASURE_READINGS:
                if limit := measured.fullmatch(found["what"]):
                    return gettext(msgid) % {"what": gettext(measure) % limit.groupdict(), "period": found["period"]}
    return None


def _held_status(action: str) -> str:
    return Status.REJECTED if action == "reject" else Status.ON_HOLD


def caps_apply(computed: list[tuple[Commission, Commission | None]], *, now: datetime | None = None) -> None:
    """Count each first-tier commission of a sale or lead (not born rejected) against its caps, in order; past a
    cap its status becomes on hold (`hold`, `pause`) or rejected (`reject`), with the reason, and its override
    follows. The decision is kept in `rule_snapshot["cap"]` for the explanation. Inside the writer's transaction;
    the conversions come with their partnership loaded (its own caps)."""
    now = now or timezone.now()
    todo = [(first, second) for first, second in computed
            if first.kind in CAPPED_KINDS and first.status != Status.REJECTED and first.conversion_id is not None]
    if not todo:
        return
    for network_id in sorted({first.network_id for first, _ in todo}):
        batch = [(first, second) for first, second in todo if first.network_id == network_id]
        items = [program_caps.CapItem(
            program=first.program, partnership=first.conversion.partnership,
            affiliate_id=first.affiliate_id, moment=first.conversion.created_at, payout=first.amount)
            for first, _ in batch]
        decisions, alerts = program_caps.caps_take(network_id=network_id, items=items)
        for (first, second), decision in zip(batch, decisions, strict=True):
            if decision is None:
                continue
            first.rule_snapshot = {**(first.rule_snapshot or {}), "cap": decision.snapshot()}
            if decision.exceeded is None:
                continue
            status = _held_status(decision.action)
            text = cap_text(first.rule_snapshot["cap"], first.currency)
            opening = REJECTED_FOR if status == Status.REJECTED else HELD_FOR  # in English, shown translated
            reason = opening % {"why": text} + (f"; {first.reason}" if first.reason else "")
            if status == Status.ON_HOLD and first.status == Status.ON_HOLD:
                reason = f"{first.reason}; {text}"
            for commission in (first, second):
                if commission is None:
                    continue
                commission.status = status
                commission.reason = reason[:255]
                commission.rejected_at = now if status == Status.REJECTED else None
        alerts_send(alerts)


# --- caps set in the middle of a period ------------------------------------------------------------------------
def on_caps_started(sender, program: Program, partnership=None, **kwargs) -> None:
    """Seed the current day's and month's counters of caps just set with the commissions already written in them
    (first tier, sales and leads, not rejected; refunded ones count, as they do when counted live)."""
    scope = program_caps.scope_for(program, partnership)
    if scope is None:
        return
    tz = zoneinfo.ZoneInfo(program.network.timezone)
    now = timezone.now()
    for period in CapCounter.Period.values:
        start = program_caps.period_start(now, tz, period)
        since = datetime.combine(start, datetime.min.time(), tzinfo=tz)
        rows = Commission.objects.for_network(program.network_id).filter(
            program_id=program.pk, tier=1, kind__in=CAPPED_KINDS, conversion__created_at__gte=since,
            conversion__created_at__lt=program_caps.period_end(start, tz, period)).exclude(status=Status.REJECTED)
        if scope.partnership_id is not None:
            rows = rows.filter(conversion__partnership_id=scope.partnership_id)
        else:  # partnerships with their own caps are not counted in the program's
            rows = rows.exclude(conversion__partnership__caps__isnull=False)
        totals = rows.aggregate(n=Count("id"), payout=Sum("amount"))
        program_caps.counters_seed(program=program, partnership=partnership if scope.partnership_id else None,
                                   period=period, start=start, conversions=totals["n"],
                                   payout=totals["payout"] or Decimal(0))


# --- alerts ------------------------------------------------------------------------------------------------------
def cap_reached_payload(*, program: Program, partnership_id: int | None, affiliate_id: int | None, measure: str,
                        level: int, limit: str, used: str, action: str, period_start: date,
                        period_end: datetime) -> dict:
    """The body of `program.cap_reached`: which cap of which program (or partnership) reached 80 or 100 %."""
    return {"program": program.pk, "program_name": program.name, "partnership": partnership_id,
            "affiliate": affiliate_id, "cap": measure, "level": level, "limit": limit, "used": used,
            "currency": program.currency if measure == "payout_month" else None, "action": action,
            "period": program_caps.PERIOD_OF[measure], "period_start": period_start.isoformat(),
            "period_end": period_end}


def alerts_send(alerts: list) -> None:
    """`program.cap_reached` to the advertiser's (and the operators') webhooks, and the advertiser's e-mail."""
    if not alerts:
        return
    names = dict(Affiliate.objects.filter(network_id__in={a.network_id for a in alerts},
                                          pk__in={a.affiliate_id for a in alerts if a.affiliate_id})
                 .values_list("pk", "name"))
    by_network: dict[int, list[Event]] = {}
    for alert in alerts:
        program = alert.program
        data = cap_reached_payload(
            program=program, partnership_id=alert.partnership_id, affiliate_id=alert.affiliate_id,
            measure=alert.measure, level=alert.level, limit=alert.limit, used=alert.used, action=alert.action,
            period_start=alert.period_start, period_end=alert.period_end)
        by_network.setdefault(alert.network_id, []).append(
            Event("program.cap_reached", data, advertiser_id=program.advertiser_id))
        tz = zoneinfo.ZoneInfo(program.network.timezone)
        program_emails.cap_alert(
            program=program, partnership_id=alert.partnership_id, affiliate_name=names.get(alert.affiliate_id, ""),
            measure=alert.measure, level=alert.level, limit=alert.limit, used=alert.used, action=alert.action,
            period_start=alert.period_start, period_end_local=alert.period_end.astimezone(tz))
    for network_id, events in by_network.items():
        events_emit(network_id=network_id, events=events)


@event_types.example_register("program.cap_reached")
def _cap_reached_example() -> dict:
    program = Program(pk=12, network_id=event_types.EXAMPLE_NETWORK, advertiser_id=3, name="Bikes", currency="EUR")
    return cap_reached_payload(
        program=program, partnership_id=None, affiliate_id=None, measure="conversions_day", level=80, limit="100",
        used="80", action="hold", period_start=date(2026, 3, 14),
        period_end=datetime(2026, 3, 14, 23, 0, tzinfo=zoneinfo.ZoneInfo("UTC")))
