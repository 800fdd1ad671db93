"""The postback's batch path, for a CSV import's chunk of rows: the rows it can decide alone (an attributing click,
or nothing to attribute by) are looked up, decided and inserted a chunk at a time; every other row (a coupon, a
customer id to attribute by, a click still on its way, a possible duplicate order, an id already recorded
concurrently) goes, one by one and in its turn, through the full path (`services.conversion_record`).

Every decision is the postback's own function (`tracking/recording.py` lists them): the click's attribution, the
fraud signals, the row's fields, the repeated order; only the I/O (a query per chunk, not per row) is this
module's. Runs inside the caller's transaction: the chunk's rows and the caller's counters commit together.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from core.bulk import instance_new, rows_insert
from network.models import Advertiser, Network
from programs.models import SUB_FIELDS, Program

from .attribution import click_attributes, click_may_arrive
from .daily import conversions_added
from .fraud import DUPLICATE_ORDER_WINDOW, click_facts, duplicate_order_buyer, evidence
from .ids import click_id_time
from .models import Click, Conversion
from .models_outbound import WebhookEndpoint
from .outbound import Event, events_emit
from .recording import conversion_fields, order_repeats, program_currency_error
from .services import OrderConflict, conversion_payload, conversion_record
from .signals import conversions_recorded

_INSERT_ROWS = 500  # rows per INSERT
_CLICK_TIME_MARGIN = timedelta(days=1)


@dataclass
class Row:
    """A row of the file: its number (the header is row 1) and its values as the postback takes them
    (order_id, amount, currency, event, click_id, coupon, customer_id, occurred_at). `full`: send it through the
    full path as it is (its checks answer with the postback's own messages)."""

    number: int
    values: dict
    full: bool = False


@dataclass
class Outcome:
    number: int
    result: str  # "created", "duplicate" or "error"
    errors: dict = field(default_factory=dict)


def conflict_errors() -> dict:
    return {"order_id": [gettext("This order_id is already recorded with a different amount or currency.")]}


def conversions_record_batch(*, network: Network, advertiser: Advertiser, rows: list[Row]) -> list[Outcome]:
    """Record the rows in order, as the postback would one after another; one outcome per row."""
    now = timezone.now()
    recorded = _recorded_orders(network, advertiser, {row.values["order_id"] for row in rows})
    clicks = _clicks(network, {row.values["click_id"] for row in rows if row.values["click_id"] and not row.full})
    known_buyers = _known_buyers(network, advertiser, rows, now)
    outcomes: dict[int, Outcome] = {}
    waiting: list[tuple[Row, Conversion]] = []
    seen_buyers: set = set()
    for row in rows:
        values = row.values
        order = values["order_id"]
        if order in recorded:
            amount, currency = recorded[order]
            repeat = order_repeats(recorded_amount=amount, recorded_currency=currency, amount=values["amount"],
                                   currency=values["currency"])
            outcomes[row.number] = (Outcome(row.number, "duplicate") if repeat
                                    else Outcome(row.number, "error", conflict_errors()))
            continue
        buyer = set(duplicate_order_buyer(customer_id=values["customer_id"], click_id=values["click_id"]).items())
        at = values["occurred_at"] or now
        try:
            fields = None if row.full or buyer & (known_buyers | seen_buyers) else _decide(
                advertiser, values, clicks, at)
        except ValidationError as exc:
            outcomes[row.number] = Outcome(row.number, "error", exc.message_dict)
            continue
        seen_buyers |= buyer
        if fields is None:
            _flush(network, advertiser, waiting, outcomes)
            waiting = []
            outcomes[row.number] = outcome = _full(network, advertiser, row)
        else:
            waiting.append((row, instance_new(
                Conversion, {"network": network, "advertiser": advertiser}, order_id=order, event=values["event"],
                amount=values["amount"], currency=values["currency"], click_id=values["click_id"],
                coupon_code=values["coupon"], customer_id=values["customer_id"], items=[], created_at=at, **fields)))
            outcomes[row.number] = outcome = Outcome(row.number, "created")  # unless _flush finds it taken
        if outcome.result != "error":
            recorded[order] = (values["amount"], values["currency"])
    _flush(network, advertiser, waiting, outcomes)
    return [outcomes[row.number] for row in rows]


def _decide(advertiser: Advertiser, values: dict, clicks: dict, now: datetime) -> dict | None:
    """The row's attribution and fraud columns when the batch can decide them alone; None for the full path.
    Raises ValidationError (the postback's message) for a conversion in another currency than its program's."""
    click_id = values["click_id"]
    click = clicks.get(click_id) if click_id else None
    if click is not None:
        program = click.program
        if click_attributes(program_advertiser_id=program.advertiser_id, advertiser_id=advertiser.pk,
                            clicked_at=click.created_at, window_days=program.attribution_window_days, now=now):
            errors = program_currency_error(program_name=program.name, program_currency=program.currency,
                                            currency=values["currency"])
            if errors is not None:
                raise ValidationError(errors)
            if values["coupon"]:
                return None  # the coupon is kept and linked to its affiliate's code: the full path does it
            if program.attribution_model == Program.AttributionModel.FIRST_CLICK:
                return None  # an earlier click of the visitor may earn it (attribution.first_click_before)
            return conversion_fields(
                kind=Conversion.Attribution.CLICK, details=evidence(now=now, click=click_facts(click, program)),
                policy=program.fraud_policy, program_id=program.pk, partnership_id=click.partnership_id,
                affiliate_id=click.affiliate_id, link_id=click.link_id, clicked_at=click.created_at,
                subs={name: getattr(click, name) for name in SUB_FIELDS}, country=click.country)
    elif click_id and click_may_arrive(click_id, now):
        return None  # recorded waiting for its click: the full path
    if values["coupon"] or values["customer_id"]:
        return None  # the coupon or a known customer may attribute: the full path decides
    return conversion_fields(kind=Conversion.Attribution.NONE, details=evidence(now=now), policy=None)


def _full(network: Network, advertiser: Advertiser, row: Row) -> Outcome:
    values = row.values
    try:
        with transaction.atomic():  # a refused row leaves nothing behind
            recorded = conversion_record(
                network=network, advertiser=advertiser, order_id=values["order_id"], amount=values["amount"],
                currency=values["currency"], event=values["event"], click_id=values["click_id"],
                coupon=values["coupon"], customer_id=values["customer_id"], occurred_at=values["occurred_at"])
    except OrderConflict:
        return Outcome(row.number, "error", conflict_errors())
    except ValidationError as exc:
        return Outcome(row.number, "error", exc.message_dict if hasattr(exc, "error_dict") else
                       {"detail": exc.messages})
    return Outcome(row.number, "created" if recorded.created else "duplicate")


def _flush(network: Network, advertiser: Advertiser, waiting: list[tuple[Row, Conversion]],
           outcomes: dict[int, Outcome]) -> None:
    """Insert the decided rows; an order id written meanwhile (another import, a postback) takes the full path."""
    if not waiting:
        return
    written = []
    for start in range(0, len(waiting), _INSERT_ROWS):
        part = waiting[start:start + _INSERT_ROWS]
        ids = _insert([conversion for _, conversion in part])
        for row, conversion in part:
            conversion.pk = ids.get(conversion.order_id)
            if conversion.pk is None:
                outcomes[row.number] = _full(network, advertiser, row)
            else:
                written.append(conversion)
    if not written:
        return
    ids = [conversion.pk for conversion in written]
    conversions_added(network.pk, ids)
    if WebhookEndpoint.objects.for_network(network).filter(is_active=True).exists():
        events_emit(network_id=network.pk, events=[
            Event("conversion.created", conversion_payload(conversion), advertiser_id=advertiser.pk)
            for conversion in written])
    transaction.on_commit(lambda: conversions_recorded.send(sender=Conversion, conversion_ids=ids,
                                                            network_id=network.pk))


def _insert(conversions: list[Conversion]) -> dict[str, int]:
    """One multi-row INSERT; {order id: new id} of the rows written (not the ones already recorded)."""
    rows = rows_insert(Conversion, conversions, returning="id, order_id",
                       suffix="ON CONFLICT (network_id, advertiser_id, order_id) DO NOTHING")
    return {order_id: pk for pk, order_id in rows}


def _recorded_orders(network: Network, advertiser: Advertiser, order_ids: set) -> dict:
    rows = (Conversion.objects.for_network(network).filter(advertiser=advertiser, order_id__in=order_ids)
            .values_list("order_id", "amount", "currency"))
    return {order_id: (amount, currency) for order_id, amount, currency in rows}


def _clicks(network: Network, click_ids: set) -> dict:
    if not click_ids:
        return {}
    times = [click_id_time(click_id) for click_id in click_ids]
    rows = list(Click.objects.for_network(network)
                .filter(click_id__in=click_ids,
                        created_at__range=(min(times) - _CLICK_TIME_MARGIN, max(times) + _CLICK_TIME_MARGIN)))
    # A chunk's clicks share a few programs: each read once (a click whose program is gone is not found, as the
    # join found none).
    programs = Program.objects.for_network(network).in_bulk({click.program_id for click in rows})
    found = {}
    for click in rows:
        if click.program_id in programs:
            click.program = programs[click.program_id]
            found[click.click_id] = click
    return found


def _known_buyers(network: Network, advertiser: Advertiser, rows: list[Row], now: datetime) -> set:
    """(column, value) of the rows' buyers with a conversion of this advertiser inside the duplicate-order window:
    such a row may repeat an order, so the full path runs the predicate (`fraud.duplicate_order_sql`) for it."""
    click_ids = {row.values["click_id"] for row in rows if row.values["click_id"]}
    customer_ids = {row.values["customer_id"] for row in rows if row.values["customer_id"]}
    if not click_ids and not customer_ids:
        return set()
    times = [row.values["occurred_at"] or now for row in rows]
    found = (Conversion.objects.for_network(network)
             .filter(Q(click_id__in=click_ids) | Q(customer_id__in=customer_ids), advertiser=advertiser,
                     created_at__gte=min(times) - DUPLICATE_ORDER_WINDOW, created_at__lte=max(times))
             .values_list("click_id", "customer_id"))
    buyers = set()
    for click_id, customer_id in found:
        if click_id:
            buyers.add(("click_id", click_id))
        if customer_id:
            buyers.add(("customer_id", customer_id))
    return buyers
