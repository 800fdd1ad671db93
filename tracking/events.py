"""The catalogue of webhook event types (`GET /api/v1/webhook-events`) and the events of parties below tracking.

Each type has a description, who receives it, and an example: the body a delivery of that type carries, built by
the same payload function its emitter uses, from unsaved rows. Apps above tracking (commissions, payouts) register
their examples in their `ready()`. Affiliates (network) and partnerships (programs) cannot import `event_emit`:
they send signals, turned into events here.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder

from network.models import Affiliate, PartyStatus
from network.signals import affiliate_approved, affiliate_created
from programs.models import Partnership, Program
from programs.signals import partnership_decided

from .outbound import EVENTS, envelope, event_emit

OPERATORS = "operators"
ADVERTISER = "advertiser"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    # OPERATORS: the network's operator endpoints only; ADVERTISER: also the endpoints of the advertiser concerned.
    audience: str


TYPES = {item.name: item for item in (
    EventType("conversion.created", "A conversion (sale, lead) was recorded, attributed or not.", ADVERTISER),
    EventType("conversion.refunded", "Part or all of a conversion was refunded (`refund_amount`: this refund).",
              ADVERTISER),
    EventType("commission.created", "A commission was computed for a conversion (or a referral override, or an "
              "adjustment after a tier true-up).", ADVERTISER),
    EventType("commission.approved", "A commission was approved (by the advertiser, or when its hold period "
              "ended).", ADVERTISER),
    EventType("commission.rejected", "A commission was rejected.", ADVERTISER),
    EventType("commission.reversed", "A commission was reversed in full (its conversion refunded).", ADVERTISER),
    EventType("commission.adjusted", "A tier true-up or a corrected conversion changed what a commission pays: "
              "`adjustment` is `increase` (the body is the new adjustment commission, `adjusts` names the "
              "commission it tops up), `decrease` (the body is the commission reduced; `change` says by how much) "
              "or `conversion` (its conversion's amount or items were corrected: the body is the commission with "
              "its new amounts; `change` is the signed difference).", ADVERTISER),
    EventType("payout.paid", "A payout to an affiliate was paid (confirmed by the provider or marked by an "
              "operator).", OPERATORS),
    EventType("payout.failed", "A payout failed; its amount is back in the affiliate's approved balance.",
              OPERATORS),
    EventType("affiliate.created", "An affiliate joined the network (created by an operator or signed up).",
              OPERATORS),
    EventType("affiliate.approved", "A pending affiliate was approved (made active) by an operator.", OPERATORS),
    EventType("partnership.approved", "An affiliate was approved in a program (by the advertiser, automatically, "
              "or by accepting an invitation).", ADVERTISER),
    EventType("partnership.rejected", "An affiliate's application to a program was rejected.", ADVERTISER),
    EventType("program.cap_reached", "A program's (or a partnership's own) conversion cap or payout budget reached "
              "80 % or 100 % (`level`) in its period (day or month, network time zone); sent once per period, cap "
              "and level.", ADVERTISER),
    EventType("webhook.test", "Sent by the endpoint's test button or API call only; never by real activity.",
              ADVERTISER),
)}
assert set(TYPES) == set(EVENTS), "every event has one catalogue entry"

_EXAMPLES: dict[str, Callable[[], dict]] = {}
EXAMPLE_NETWORK = 1
EXAMPLE_TIME = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def example_register(*names: str):
    """Decorator: the function returns the `data` of an example of these events (from unsaved rows)."""

    def register(function: Callable[[], dict]):
        for name in names:
            if name not in TYPES:
                raise ValueError(f"Unknown event {name}")
            _EXAMPLES[name] = function
        return function

    return register


def catalogue() -> list[dict]:
    """Every event type with its description, audience and example body (as JSON values)."""
    rows = []
    for name in EVENTS:
        item = TYPES[name]
        body = envelope("evt_0123456789abcdef0123456789abcdef", EXAMPLE_NETWORK, name, _EXAMPLES[name](),
                        created_at=EXAMPLE_TIME)
        rows.append({"type": name, "description": item.description, "audience": item.audience,
                     "example": json.loads(json.dumps(body, cls=DjangoJSONEncoder))})
    return rows


# --- affiliates and partnerships -----------------------------------------------------------------------------
def affiliate_payload(affiliate: Affiliate) -> dict:
    return {"id": affiliate.pk, "name": affiliate.name, "email": affiliate.email, "status": affiliate.status,
            "referred_by": affiliate.referred_by_id, "group": affiliate.group_id, "created_at": affiliate.created_at}


def partnership_payload(partnership: Partnership) -> dict:
    return {"id": partnership.pk, "program": partnership.program_id, "affiliate": partnership.affiliate_id,
            "status": partnership.status, "applied_at": partnership.applied_at,
            "decided_at": partnership.decided_at, "note": partnership.note}


def _affiliate_emit(event: str, affiliate: Affiliate) -> None:
    # The network's business: its operators' endpoints only (no advertiser).
    event_emit(network_id=affiliate.network_id, event=event, data=affiliate_payload(affiliate))


def on_affiliate_created(sender, affiliate: Affiliate, **kwargs) -> None:
    _affiliate_emit("affiliate.created", affiliate)


def on_affiliate_approved(sender, affiliate: Affiliate, **kwargs) -> None:
    _affiliate_emit("affiliate.approved", affiliate)


def on_partnership_decided(sender, partnership: Partnership, **kwargs) -> None:
    event = f"partnership.{partnership.status}"
    if event not in TYPES:
        return
    advertiser_id = (Program.objects.filter(network_id=partnership.network_id, pk=partnership.program_id)
                     .values_list("advertiser_id", flat=True).first())
    event_emit(network_id=partnership.network_id, event=event, data=partnership_payload(partnership),
               advertiser_id=advertiser_id)


def connect() -> None:
    affiliate_created.connect(on_affiliate_created, dispatch_uid="tracking.events.affiliate_created")
    affiliate_approved.connect(on_affiliate_approved, dispatch_uid="tracking.events.affiliate_approved")
    partnership_decided.connect(on_partnership_decided, dispatch_uid="tracking.events.partnership_decided")


# --- examples ------------------------------------------------------------------------------------------------
def example_affiliate(status: str = PartyStatus.ACTIVE) -> Affiliate:
    return Affiliate(pk=77, network_id=EXAMPLE_NETWORK, name="Cycling Blog", email="editor@cycling-blog.example",
                     status=status, referred_by_id=None, group_id=None, created_at=EXAMPLE_TIME)


@example_register("affiliate.created", "affiliate.approved")
def _affiliate_example() -> dict:
    return affiliate_payload(example_affiliate())


@example_register("partnership.approved", "partnership.rejected")
def _partnership_example() -> dict:
    return partnership_payload(Partnership(
        pk=310, network_id=EXAMPLE_NETWORK, program_id=12, affiliate_id=77, status=Partnership.Status.APPROVED,
        applied_at=EXAMPLE_TIME, decided_at=EXAMPLE_TIME, note=""))


def example_conversion():
    from .models import Conversion

    return Conversion(
        pk=5021, network_id=EXAMPLE_NETWORK, advertiser_id=3,
        order_id="A-1001", event=Conversion.Event.SALE, amount=Decimal("129.90"), currency="EUR",
        refunded_amount=Decimal(0), status=Conversion.Status.ACCEPTED, attribution="click", program_id=12,
        affiliate_id=77, click_id="01JDE5Z8V3QK7M2N4P6R8T0W9X", fraud_signals=[], created_at=EXAMPLE_TIME,
        sub1="fb",
    )


@example_register("conversion.created")
def _conversion_created_example() -> dict:
    from .services import conversion_payload

    return conversion_payload(example_conversion())


@example_register("conversion.refunded")
def _conversion_refunded_example() -> dict:
    from .services import conversion_refunded_payload

    conversion = example_conversion()
    conversion.refunded_amount = Decimal("29.90")
    return conversion_refunded_payload(conversion, Decimal("29.90"))


@example_register("webhook.test")
def _test_example() -> dict:
    from .services import webhook_test_payload

    return webhook_test_payload("EUR")
