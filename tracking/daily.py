"""Tracking's day tables (network.daily): clicks per local day (written by the ingester beside the hourly
rollups) and conversions per local day (kept by every service that writes a conversion), and their rebuild from
the hourly rollups and the conversions."""

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Left, TruncDate

from network import daily
from programs.models import SUB_FIELDS, Program

from .models import ClickDay, ClickRollup, Conversion, ConversionDay

# As the hourly rollups cut them (tracking.ingest.ROLLUP_SUB_LENGTH; here so ingest may import this module).
SUB_LENGTH = 100


def counts_unique(record: dict) -> bool:
    """A click the `unique_clicks` counters (what CPC pays on) count: neither a duplicate nor a bot, nor outside its
    program's targeting. The hourly rollups and the day tables both ask this."""
    return record["is_unique"] and not record["is_bot"] and not record.get("off_target")


def advertiser_of(network_id: int, program_ids: Iterable[int]) -> dict[int, int]:
    """{program id: its advertiser's id}, read each batch (an id is not kept across transactions: SQLite reuses
    the id of a program whose creation was rolled back)."""
    return dict(Program.objects.for_network(network_id).filter(pk__in=set(program_ids))
                .values_list("pk", "advertiser_id"))


def key_values(values: dict) -> dict:
    """The day-key columns (beyond network and day) as one grouped query names them."""
    return {"k_advertiser": F("advertiser_id"), "k_program": Coalesce("program_id", Value(0)),
            "k_affiliate": Coalesce("affiliate_id", Value(0))} | values


def cut_subs(prefixes: Iterable[str] = ("",)) -> dict:
    """sub1..sub5 and country as the day tables keep them, from the first of `prefixes` whose row has them."""
    def first(name: str):
        fields = [f"{prefix}{name}" for prefix in prefixes]
        return Coalesce(*fields, Value("")) if len(fields) > 1 else F(fields[0])
    return {**{f"k_{name}": Left(first(name), SUB_LENGTH) for name in SUB_FIELDS}, "k_country": first("country")}


def grouped_rows(queryset: QuerySet, at: str, tz: str, keys: dict, **sums) -> QuerySet:
    """Grouped rows of {network_id, day, key columns..., sums...}, the day local to `tz`."""
    return (queryset.order_by().annotate(day=TruncDate(at, tzinfo=ZoneInfo(tz)), **keys)
            .values("network_id", "day", *keys).annotate(**sums))


# --- clicks ------------------------------------------------------------------------------------------------------
def clicks_add(counts: dict[tuple, list[int]]) -> None:
    """For the ingester, in its batch's transaction: its new clicks added to their local days. `counts`: (network,
    program, affiliate, UTC minute, sub1..sub5 as kept, country) -> [clicks, unique clicks, bot clicks, velocity
    clicks] (the ingester's one pass over its clicks, `tracking.ingest._rollup`)."""
    by_network: dict[int, list[tuple]] = {}
    for key in counts:
        by_network.setdefault(key[0], []).append(key)
    for network_id, keys in sorted(by_network.items()):
        tz = ZoneInfo(daily.network_lock(network_id))
        advertisers = advertiser_of(network_id, {key[1] for key in keys})
        days: dict = {}  # UTC minute -> local date (offsets change on whole minutes, so a minute has one date)
        sums: daily.Contribution = {}
        for key in keys:
            _network_id, program_id, affiliate_id, minute, *rest = key
            day = days.get(minute)
            if day is None:
                day = days[minute] = minute.astimezone(tz).date()
            day_key = (network_id, day, advertisers[program_id], program_id, affiliate_id, *rest)
            c = sums.get(day_key)
            if c is None:
                c = sums[day_key] = {"clicks": 0, "unique_clicks": 0, "bot_clicks": 0, "velocity_clicks": 0}
            clicks, unique, bots, velocity = counts[key]
            c["clicks"] += clicks
            c["unique_clicks"] += unique
            c["bot_clicks"] += bots
            c["velocity_clicks"] += velocity
        daily.add(ClickDay, sums)


def clicks_from_rollups(network_id: int, tz: str, since=None, until=None) -> QuerySet:
    """ClickDay's rows recomputed from the hourly rollups (a rebuild): each hour on the local day it starts in."""
    rows = ClickRollup.objects.filter(network_id=network_id)
    if since is not None:
        rows = rows.filter(hour__gte=since, hour__lt=until)
    keys = {"k_advertiser": F("program__advertiser_id"), "k_program": F("program_id"),
            "k_affiliate": F("affiliate_id"), **{f"k_{name}": F(name) for name in SUB_FIELDS},
            "k_country": F("country")}
    return grouped_rows(rows, "hour", tz, keys, **{name: Sum(name) for name in ClickDay.day_sums})


# --- conversions -------------------------------------------------------------------------------------------------
def _conversion_rows(queryset: QuerySet, tz: str) -> QuerySet:
    keys = key_values({**cut_subs(), "k_currency": F("currency")})
    # Rejected and test conversions (tracking.sample_conversion) count in no total.
    queryset = queryset.exclude(status=Conversion.Status.REJECTED).exclude(is_test=True)
    return grouped_rows(queryset, "created_at", tz, keys,
                        conversions=Count("id"),
                        click_conversions=Count("id", filter=Q(attribution=Conversion.Attribution.CLICK)),
                        sales=Sum(F("amount") - F("refunded_amount")))


def conversions_source(network_id: int, ids: list, tz: str) -> daily.Contribution:
    rows = _conversion_rows(Conversion.objects.filter(network_id=network_id, pk__in=ids), tz)
    return daily.grouped(rows, day_names(ConversionDay), ConversionDay.day_sums)


def conversions_from_rows(network_id: int, tz: str, since=None, until=None) -> QuerySet:
    rows = Conversion.objects.filter(network_id=network_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since, created_at__lt=until)
    return _conversion_rows(rows, tz)


def conversions_added(network_id: int, ids: list) -> None:
    """Conversions just inserted, added to their days (the postback's paths, in their transaction)."""
    daily.added(ConversionDay, conversions_source, network_id, ids)


def conversions_kept(network_id: int, ids: list):
    """A block that changes these conversions (a refund, a late attribution) keeps their days' sums."""
    return daily.kept(ConversionDay, conversions_source, network_id, ids)


def day_names(model) -> tuple[str, ...]:
    """A day table's key as grouped rows name it: network_id, day, then k_<field> (an annotation may not take a
    source model's field name)."""
    return tuple({"network": "network_id", "day": "day"}.get(name, f"k_{name}") for name in model.day_key)

