"""Caps and budgets: conversions per day and per month and a payout budget per month, per program or per
partnership (whose own caps replace the program's for its conversions), counted in the network's time zone.

`caps_take` decides, for a batch of commissions being written, which are within their caps, on counter rows
locked in a fixed order (`SELECT ... FOR UPDATE`, filtered by network): concurrent conversions never overshoot a
cap. It also says which 80 % / 100 % alerts are due (once per period and cap: the level is kept on the row) and
pauses the clicks of a scope whose action is `pause`. `caps_status` is what is left, for pages and the API.
Refunds and rejections do not give a conversion's place back: a cap limits what was delivered in the period.
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.money import quantize

from .models import CapCounter, Partnership, Program

ACTIONS = ("hold", "reject", "pause")
CONVERSION_MEASURES = ("conversions_day", "conversions_month")
MEASURES = (*CONVERSION_MEASURES, "payout_month")
PERIOD_OF = {"conversions_day": CapCounter.Period.DAY, "conversions_month": CapCounter.Period.MONTH,
             "payout_month": CapCounter.Period.MONTH}
MAX_CONVERSIONS = 1_000_000_000
ALERT_LEVELS = (80, 100)
PROGRAM, PARTNERSHIP = "program", "partnership"


def has_limits(caps: dict | None) -> bool:
    return bool(caps) and any(caps.get(measure) is not None for measure in MEASURES)


def caps_value(*, conversions_day=None, conversions_month=None, payout_month=None, action="hold",
               currency: str) -> dict:
    """The stored shape of validated caps: counts as ints, the budget as a string in the currency's minor units."""
    return {
        "conversions_day": conversions_day, "conversions_month": conversions_month,
        "payout_month": None if payout_month is None else str(quantize(Decimal(payout_month), currency)),
        "action": action,
    }


# --- periods -------------------------------------------------------------------------------------------------
def period_start(moment: datetime, tz: zoneinfo.ZoneInfo, period: str) -> date:
    """The first local day of the period holding `moment` in the time zone `tz`."""
    local = moment.astimezone(tz).date()
    return local if period == CapCounter.Period.DAY else local.replace(day=1)


def period_end(start: date, tz: zoneinfo.ZoneInfo, period: str) -> datetime:
    """When the period starting on `start` ends (its next local midnight), in UTC."""
    if period == CapCounter.Period.DAY:
        following = start + timedelta(days=1)
    else:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return datetime.combine(following, time(0), tzinfo=tz).astimezone(UTC)


# --- scopes --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    kind: str  # PROGRAM or PARTNERSHIP
    program_id: int
    partnership_id: int | None  # None: the program's own counters
    caps: dict

    @property
    def action(self) -> str:
        return self.caps.get("action") or "hold"

    def key(self, period: str, start: date) -> tuple:
        return (self.program_id, self.partnership_id, period, start)


def scope_for(program: Program, partnership: Partnership | None) -> Scope | None:
    """The caps that apply to a conversion of `partnership` in `program`: the partnership's own when set, else
    the program's; None when no limit applies."""
    if partnership is not None and partnership.caps is not None:
        caps = partnership.caps
        return Scope(PARTNERSHIP, program.pk, partnership.pk, caps) if has_limits(caps) else None
    return Scope(PROGRAM, program.pk, None, program.caps) if has_limits(program.caps) else None


def _limit(caps: dict, measure: str):
    value = caps.get(measure)
    if value is None:
        return None
    return Decimal(value) if measure == "payout_month" else int(value)


def _used(row: CapCounter, measure: str):
    return row.payout if measure == "payout_month" else row.conversions


def _alert_field(measure: str) -> str:
    return "payout_alerted" if measure == "payout_month" else "conversions_alerted"


def _level(used, limit) -> int:
    if used >= limit:
        return 100
    return 80 if used * 100 >= limit * 80 else 0


# --- taking a place ------------------------------------------------------------------------------------------
@dataclass
class CapItem:
    """One commission to count: its program (with `network` loaded), partnership (or None), affiliate, the time
    that picks the period (the conversion's) and the payout it would add to the budget."""

    program: Program
    partnership: Partnership | None
    affiliate_id: int | None
    moment: datetime
    payout: Decimal


@dataclass
class Decision:
    """A capped commission's fate: `exceeded` is the measure it would have gone past (None: counted)."""

    scope: str
    action: str
    exceeded: str | None
    limit: str | None = None
    used: str | None = None
    period: str | None = None
    period_start: date | None = None
    period_end: datetime | None = None
    counted: dict = field(default_factory=dict)  # measure -> {"used", "limit"} after this commission

    def snapshot(self) -> dict:
        """Kept in the commission's rule snapshot, for its explanation."""
        return {"scope": self.scope, "action": self.action, "exceeded": self.exceeded, "limit": self.limit,
                "used": self.used, "period": self.period,
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "period_end": self.period_end.isoformat() if self.period_end else None, "counted": self.counted}


@dataclass
class Alert:
    network_id: int
    program: Program
    partnership_id: int | None
    affiliate_id: int | None
    measure: str
    level: int
    limit: str
    used: str
    action: str
    period_start: date
    period_end: datetime


def _tz(program: Program) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(program.network.timezone)


def _counters_locked(network_id: int, keys: list[tuple]) -> dict[tuple, CapCounter]:
    """The counter rows of `keys` (created when missing), locked in primary key order."""
    keys = sorted(set(keys), key=lambda k: (k[0], k[1] or 0, k[2], k[3]))
    CapCounter.objects.bulk_create(
        [CapCounter(network_id=network_id, program_id=p, partnership_id=s, period=period, period_start=start)
         for p, s, period, start in keys], ignore_conflicts=True)
    match = Q()
    for program_id, partnership_id, period, start in keys:
        match |= Q(program_id=program_id, partnership_id=partnership_id, period=period, period_start=start)
    rows = CapCounter.objects.select_for_update().filter(match, network_id=network_id).order_by("pk")
    return {(r.program_id, r.partnership_id, r.period, r.period_start): r for r in rows}


def caps_take(*, network_id: int, items: list[CapItem]) -> tuple[list[Decision | None], list[Alert]]:
    """Count each item (in order) within its caps, or say which cap it would pass. One decision per item (None:
    no caps apply), and the alerts now due. Runs inside the caller's transaction: the locks, the counts and the
    commissions commit together. Scopes whose action is `pause` and which reached a cap are paused here."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("caps_take runs inside the transaction that writes the commissions")
    scopes = [None if item.program is None else scope_for(item.program, item.partnership) for item in items]
    keys = []
    for item, scope in zip(items, scopes, strict=True):
        if scope is not None:
            tz = _tz(item.program)
            keys += [scope.key(period, period_start(item.moment, tz, period)) for period in CapCounter.Period.values]
    if not keys:
        return [None] * len(items), []
    rows = _counters_locked(network_id, keys)
    decisions, alerts, changed, pauses = [], [], set(), {}
    for item, scope in zip(items, scopes, strict=True):
        if scope is None:
            decisions.append(None)
            continue
        tz = _tz(item.program)
        by_period = {p: rows[scope.key(p, period_start(item.moment, tz, p))] for p in CapCounter.Period.values}
        payout = Decimal(item.payout)
        decision = Decision(scope.kind, scope.action, None)
        for measure in MEASURES:
            limit = _limit(scope.caps, measure)
            if limit is None:
                continue
            row = by_period[PERIOD_OF[measure]]
            after = _used(row, measure) + (payout if measure == "payout_month" else 1)
            if after > limit:
                decision.exceeded, decision.limit, decision.used = measure, str(limit), str(_used(row, measure))
                break
        if decision.exceeded is None:
            for row in by_period.values():
                row.conversions += 1
                row.payout += payout
                changed.add(row.pk)
        for measure in MEASURES:
            limit = _limit(scope.caps, measure)
            if limit is None:
                continue
            row = by_period[PERIOD_OF[measure]]
            used = _used(row, measure)
            decision.counted[measure] = {"used": str(used), "limit": str(limit)}
            level = 100 if measure == decision.exceeded else _level(used, limit)
            if measure == decision.exceeded or level == 100:
                end = period_end(row.period_start, tz, row.period)
                if measure == decision.exceeded:
                    decision.period, decision.period_start, decision.period_end = row.period, row.period_start, end
                if scope.action == "pause":
                    target = (scope.kind, scope.partnership_id or scope.program_id)
                    pauses[target] = max(pauses.get(target, end), end)
            if level > getattr(row, _alert_field(measure)):
                setattr(row, _alert_field(measure), level)
                changed.add(row.pk)
                alerts.append(Alert(
                    network_id, item.program, scope.partnership_id, item.affiliate_id if scope.partnership_id else None,
                    measure, level, str(limit), str(used), scope.action, row.period_start,
                    period_end(row.period_start, tz, row.period)))
        decisions.append(decision)
    for row in rows.values():
        if row.pk in changed:
            CapCounter.objects.filter(network_id=network_id, pk=row.pk).update(
                conversions=row.conversions, payout=row.payout, conversions_alerted=row.conversions_alerted,
                payout_alerted=row.payout_alerted)
    for (kind, pk), until in pauses.items():
        _pause(network_id, kind, pk, until)
    return decisions, alerts


def _pause(network_id: int, kind: str, pk: int, until: datetime) -> None:
    """Stop the clicks of a program (or a partnership's links) until `until`. A model save, so the redirect's
    cached entries are dropped (tracking's receivers)."""
    model = Program if kind == PROGRAM else Partnership
    row = model.objects.for_network(network_id).filter(pk=pk).only("id", "network_id", "caps_paused_until").first()
    if row is None or (row.caps_paused_until is not None and row.caps_paused_until >= until):
        return
    row.caps_paused_until = until
    row.save(update_fields=["caps_paused_until"])


def counters_seed(*, program: Program, partnership: Partnership | None, period: str, start: date, conversions: int,
                  payout: Decimal) -> None:
    """Caps set in the middle of a period: the period's counter starts from what was already delivered in it (never
    below what it holds)."""
    key = (program.pk, partnership.pk if partnership is not None else None, period, start)
    row = _counters_locked(program.network_id, [key])[key]
    CapCounter.objects.filter(network_id=program.network_id, pk=row.pk).update(
        conversions=max(row.conversions, conversions), payout=max(row.payout, payout))


# --- what is left --------------------------------------------------------------------------------------------
def caps_status(*, program: Program, partnership: Partnership | None = None, now: datetime | None = None
                ) -> dict | None:
    """The caps that apply (the partnership's own, else the program's) with what is used and left in the current
    periods: `{"scope", "action", "timezone", "paused_until", "conversions_day": {"limit", "used", "remaining",
    "resets_at"} | None, ...}`; None when no cap applies."""
    scope = scope_for(program, partnership)
    if scope is None:
        return None
    now = now or timezone.now()
    tz = _tz(program)
    starts = {p: period_start(now, tz, p) for p in CapCounter.Period.values}
    rows = {(r.period, r.period_start): r for r in CapCounter.objects.for_network(program.network_id).filter(
        program_id=scope.program_id, partnership_id=scope.partnership_id,
        period_start__in=set(starts.values()))}
    owner = partnership if scope.kind == PARTNERSHIP else program
    paused = owner.caps_paused_until if owner.caps_paused_until and owner.caps_paused_until > now else None
    status = {"scope": scope.kind, "action": scope.action, "timezone": program.network.timezone,
              "paused_until": paused}
    for measure in MEASURES:
        limit = _limit(scope.caps, measure)
        if limit is None:
            status[measure] = None
            continue
        period = PERIOD_OF[measure]
        row = rows.get((period, starts[period]))
        used = _used(row, measure) if row is not None else (Decimal(0) if measure == "payout_month" else 0)
        remaining = max(limit - used, 0)
        if measure == "payout_month":
            used, remaining, limit = (str(quantize(v, program.currency)) for v in (used, remaining, limit))
        status[measure] = {"limit": limit, "used": used, "remaining": remaining,
                           "resets_at": period_end(starts[period], tz, period)}
    return status


def caps_pause_recompute(*, program: Program, partnership: Partnership | None = None) -> None:
    """After caps change: paused until the end of the latest full period when the action is `pause` and a cap is
    already reached, else not paused."""
    owner = partnership if partnership is not None else program
    until = None
    if partnership is None or partnership.caps is not None:
        status = caps_status(program=program, partnership=partnership)
        if status is not None and status["action"] == "pause" and status["scope"] == (
                PARTNERSHIP if partnership is not None else PROGRAM):
            ends = [status[m]["resets_at"] for m in MEASURES
                    if status[m] is not None and Decimal(str(status[m]["remaining"])) <= 0]
            until = max(ends) if ends else None
    if owner.caps_paused_until != until:
        owner.caps_paused_until = until
        owner.save(update_fields=["caps_paused_until"])


DASHBOARD_ROWS = 20


def caps_overview(*, programs) -> list[tuple[Program, dict]]:
    """(program, status) for the capped programs among `programs` (a scoped queryset): the advertiser's dashboard."""
    rows = []
    for program in programs.filter(caps__isnull=False).exclude(status=Program.Status.ARCHIVED).select_related(
            "network").order_by("name", "id")[:DASHBOARD_ROWS]:
        status = caps_status(program=program)
        if status is not None:
            rows.append((program, status))
    return rows


def partner_caps_overview(*, partnerships) -> list[tuple[Partnership, dict]]:
    """(partnership, status) for the approved partnerships among `partnerships` (scoped) that a cap applies to."""
    rows = []
    capped = partnerships.filter(status=Partnership.Status.APPROVED).filter(
        Q(caps__isnull=False) | Q(program__caps__isnull=False)).select_related("program__network")
    for partnership in capped.order_by("program__name", "id")[:DASHBOARD_ROWS]:
        status = caps_status(program=partnership.program, partnership=partnership)
        if status is not None:
            rows.append((partnership, status))
    return rows
