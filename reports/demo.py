"""90 days of demo traffic for the reports: clicks (through the ingester), conversions and refunds (through
tracking's services), commissions (computed by the commissions app) approved once their hold period is over.

Deterministic: each day draws its whole traffic from its own seeded random generator (click ids included) whatever
the time of the run, and writes what happened by then; order ids are `DEMO-R-<date>-<n>`. A rerun writes only the
clicks after the day's last stored hour and leaves an order already recorded alone: at the same moment it adds
nothing, later it adds what happened since. Each conversion and refund is recorded "as of" its own moment (the
clock is set back while the service runs) so attribution windows, hold periods and dates are those of that day.
"""

import math
import random
import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from commissions import services as commission_services
from commissions.models import Commission
from core.clock import as_of
from programs.models import Partnership, TrackingLink
from tracking import services as tracking_services
from tracking.fraud import ip_hash
from tracking.ids import click_id_time, new_click_id
from tracking.ingest import ingest_records
from tracking.models import ClickRollup, Conversion

DAYS = 90
CLICKS_PER_DAY = 110  # at the low of the year; 1.6 times that at its high (seed_demo stays fast)
CONVERSION_RATE = 0.025
REFUND_RATE = 0.05
CANCEL_RATE = 0.03
SUB1 = [("fb", 5), ("ig", 3), ("newsletter", 2), ("seo", 4)]
COUNTRIES = [("DE", 8), ("AT", 2), ("CH", 2), ("FR", 3), ("NL", 2), ("GB", 2), ("US", 2)]
BROWSERS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) Gecko/20100101 Firefox/133.0"]
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# Busy evenings, quiet nights (local hour -> weight).
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 9, 8, 5, 3]


def _pick(rng: random.Random, weighted):
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def _volume(rng: random.Random, day: date, per_day: int) -> int:
    """A day's clicks, from its date alone (a rerun on a later day draws the same volume for it): a yearly season
    and the week's rhythm."""
    trend = 1.3 + 0.3 * math.sin(2 * math.pi * day.toordinal() / 365)
    weekday = (1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.65)[day.weekday()]
    return max(1, int(per_day * trend * weekday * rng.uniform(0.85, 1.15)))


def _day_clicks(rng: random.Random, day: date, tz, links: list, count: int) -> list[dict]:
    """The whole day's clicks, future ones included, so the draws are the same whatever the time of the run."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    visitors = [ip_hash(f"198.51.{rng.randrange(256)}.{rng.randrange(256)}") for _ in range(max(count * 9 // 10, 1))]
    records = []
    for _ in range(count):
        link = rng.choices(links, weights=[w for _, w in links])[0][0]
        moment = start + timedelta(hours=rng.choices(range(24), weights=HOURS)[0], seconds=rng.randrange(3600))
        ms = int(moment.timestamp() * 1000)
        bot = rng.random() < 0.02
        record = {
            "click_id": new_click_id(ms, entropy=rng.getrandbits(80)), "network_id": link.network_id,
            "program_id": link.program_id, "partnership_id": link.partnership_id, "link_id": link.pk,
            "affiliate_id": link.affiliate_id, "sub1": _pick(rng, SUB1), "sub2": link.sub2 or "",
            "sub3": link.sub3 or "", "sub4": "", "sub5": "", "ip_hash": rng.choice(visitors),
            "ip_truncated": "198.51.0.0", "user_agent": BOT if bot else rng.choice(BROWSERS), "referrer": "",
            "country": _pick(rng, COUNTRIES),
        }
        records.append(record)
        if rng.random() < 0.03:  # the same visitor clicking again a few seconds later: a duplicate
            again = dict(record, click_id=new_click_id(ms + 4000, entropy=rng.getrandbits(80)))
            records.append(again)
    return records


def _clicked_by(records: list[dict], now: datetime) -> list[dict]:
    """The day's clicks made by `now` (the rest of the day is drawn but not yet clicked)."""
    return [r for r in records if click_id_time(r["click_id"]) <= now]


def _amount(rng: random.Random, program) -> tuple[str, Decimal]:
    events = {rule.event for rule in program.rules.all()}
    if "sale" not in events and "lead" in events:
        return Conversion.Event.LEAD, Decimal("0.00")
    if program.rules.filter(recurring_months__gt=0).exists():
        return Conversion.Event.SALE, Decimal(rng.choice(["29.00", "49.00", "99.00"]))
    return Conversion.Event.SALE, Decimal(rng.randrange(2500, 32000)) / 100


def _day_conversions(rng: random.Random, network, day: date, records: list[dict], links: dict, now: datetime,
                     done: set[str], rate: float) -> int:
    made = 0
    candidates = [r for r in records if r.get("user_agent") != BOT]
    for n, record in enumerate(rng.sample(candidates, k=int(len(candidates) * rate + rng.random()))):
        order_id = f"DEMO-R-{day:%Y%m%d}-{n:03d}"
        link = links[record["link_id"]]
        moment = click_id_time(record["click_id"]) + timedelta(minutes=rng.randrange(2, 360))
        event, amount = _amount(rng, link.program)
        # Every draw happens before any skip, so a second run replays the same sequence.
        refund = rng.random() < REFUND_RATE and event == Conversion.Event.SALE
        refunded_at = moment + timedelta(days=rng.randrange(1, 12))
        part = None if rng.random() < 0.6 else (amount / 2).quantize(Decimal("0.01"))
        cancelled = rng.random() < CANCEL_RATE
        if order_id in done or moment > now:
            continue
        with as_of(moment):
            recorded = tracking_services.conversion_record(
                network=network, advertiser=link.program.advertiser, order_id=order_id, amount=amount,
                currency=link.program.currency, event=event, click_id=record["click_id"],
                customer_id=f"demo-{day:%Y%m%d}-{n}")
            commissions = commission_services.commissions_for_conversion(conversion_id=recorded.conversion.pk)
        made += 1
        if cancelled and not refund and commissions and commissions[0].status == Commission.Status.PENDING:
            with as_of(moment + timedelta(days=2)):  # the advertiser rejects a cancelled order
                commission_services.commission_reject(network=network, commission=commissions[0],
                                                       reason="Order cancelled")
        if refund and refunded_at <= now:
            with as_of(refunded_at):
                tracking_services.conversion_refund(network=network, conversion=recorded.conversion, amount=part)
    return made


def seed(ctx: dict, *, days: int | None = None, clicks_per_day: int = CLICKS_PER_DAY) -> None:
    if not ctx.get("links"):
        return
    days = days or ctx.get("days") or DAYS
    network = ctx["network"]
    tz = zoneinfo.ZoneInfo(network.timezone)
    now = timezone.now()
    today = timezone.localdate(now, timezone=tz)
    approved = list(TrackingLink.objects.for_network(network).select_related("program")
                    .filter(pk__in=[link.pk for link in ctx["links"]], partnership__status=Partnership.Status.APPROVED)
                    .order_by("pk"))
    if not approved:
        return
    # Some links carry most of the traffic, as in any network.
    weighted = [(link, 6 if position == 0 else 3 if position < 3 else 1) for position, link in enumerate(approved)]
    by_id = {link.pk: link for link in approved}
    programs = {link.program_id for link in approved}
    done = set(Conversion.objects.for_network(network).filter(order_id__startswith="DEMO-R-")
               .values_list("order_id", flat=True))
    clicks = conversions = 0
    for index in range(days):
        day = today - timedelta(days=days - 1 - index)
        start = datetime.combine(day, time.min, tzinfo=tz)
        rng = random.Random(f"{network.slug}:{day.isoformat()}")
        count = _volume(rng, day, clicks_per_day)
        records = _day_clicks(rng, day, tz, weighted, count)
        # A rerun writes only the clicks made since the day's last stored hour (the click id is unique, so the
        # overlap within that hour is skipped by the ingester).
        stored_until = ClickRollup.objects.for_network(network).filter(
            hour__gte=start, hour__lt=start + timedelta(days=1), program_id__in=programs).aggregate(Max("hour"))
        new = [r for r in _clicked_by(records, now)
               if stored_until["hour__max"] is None or click_id_time(r["click_id"]) >= stored_until["hour__max"]]
        if new:
            clicks += ingest_records(new).inserted
        conversions += _day_conversions(rng, network, day, records, by_id, now, done, CONVERSION_RATE)
    due = Commission.objects.for_network(network).filter(status=Commission.Status.PENDING, hold_until__lte=now)
    for commission in due.order_by("tier", "pk"):
        if commission.tier == 1:
            commission_services.commission_approve(network=network, commission=commission, operator=True)
    ctx.setdefault("summary", []).append(
        f"Reports: {days} days of traffic ({clicks} new clicks, {conversions} new conversions)")
