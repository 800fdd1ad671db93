"""Attribution of a conversion: click id, then coupon code, then known customer (renewal), else none.

A click, coupon or earlier conversion of another advertiser never attributes. A well-formed click id whose
click row is not in the table yet (the click queue lags the redirect by a moment) is "pending": the
conversion is recorded unattributed with `attribution_pending` and a task attributes it once the click is
ingested (or gives up after `CLICK_INGEST_GRACE_SECONDS`, falling back to the coupon and customer).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from network.models import Advertiser, Network
from programs.models import SUB_FIELDS, CouponCode, Partnership, Program

from .ids import click_id_time, is_click_id
from .models import Click, Conversion

# Click rows carry created_at == the time in their id; a margin keeps partition pruning without relying on it.
_CLICK_TIME_MARGIN = timedelta(days=1)


@dataclass
class Attribution:
    kind: str = Conversion.Attribution.NONE
    program: Program | None = None
    partnership_id: int | None = None
    affiliate_id: int | None = None
    link_id: int | None = None
    coupon: CouponCode | None = None
    click: Click | None = None
    clicked_at: datetime | None = None
    subs: dict = field(default_factory=dict)
    country: str = ""
    pending: bool = False
    first_click_id: str = ""  # the visitor's first click, when it took the credit from the reported one


def click_find(*, network: Network, click_id: str) -> Click | None:
    at = click_id_time(click_id)
    return (
        Click.objects.for_network(network)
        .select_related("program")
        .filter(click_id=click_id, created_at__range=(at - _CLICK_TIME_MARGIN, at + _CLICK_TIME_MARGIN))
        .first()
    )


def coupon_find(*, network: Network | int, advertiser: Advertiser | int, code: str) -> CouponCode | None:
    """The advertiser's coupon (active or not), or None: another advertiser's code is as unknown as a made-up one.

    Merchants forward whatever code the customer typed, so an unknown code is no error: the sale is recorded
    (attributed by its click or customer when it has one) and keeps the code (`Conversion.coupon_code`)."""
    code = code.strip().upper()
    if not code:
        return None
    return (
        CouponCode.objects.for_network(network)
        .select_related("partnership__program")
        .filter(code=code, partnership__program__advertiser=advertiser)
        .first()
    )


def attribution_warnings(*, kind: str, pending: bool, coupon_code: str, coupon_known: bool) -> list[dict]:
    """What the answer to a recorded sale warns about (both postback paths and the pixel call this).

    An unknown coupon is reported only when nothing else attributed the sale (a click, a known customer, or a
    click still on its way); the sale itself is always recorded."""
    if coupon_code and not coupon_known and kind == Conversion.Attribution.NONE and not pending:
        return [{
            "code": "unknown_coupon", "field": "coupon",
            "detail": gettext("Unknown coupon '%(code)s': it is not a code issued to an affiliate of your programs. "
                              "The sale is recorded unattributed.") % {"code": coupon_code},
        }]
    return []


def conversion_warnings(conversion) -> list[dict]:
    """The warnings of a recorded conversion (a model row or the fast path's plain values), the same on a repeat."""
    return attribution_warnings(kind=conversion.attribution, pending=conversion.attribution_pending,
                                coupon_code=conversion.coupon_code, coupon_known=conversion.coupon_id is not None)


def within_window(clicked_at: datetime, window_days: int, now: datetime) -> bool:
    # A little slack for clock skew between the redirect and the merchant's server.
    return clicked_at - timedelta(minutes=5) <= now <= clicked_at + timedelta(days=window_days)


def click_attributes(*, program_advertiser_id: int, advertiser_id: int, clicked_at: datetime, window_days: int,
                     now: datetime) -> bool:
    """A found click credits the conversion when its program is this advertiser's and it is inside the program's
    attribution window (both postback paths)."""
    return program_advertiser_id == advertiser_id and within_window(clicked_at, window_days, now)


def first_click_before(*, network_id: int, program_id: int, model: str, ip_hash: str, window_days: int,
                       clicked_at: datetime, now: datetime) -> Click | None:
    """First-click programs: the visitor's first click on the program still inside the attribution window and
    before the click the order reported, which then earns the conversion instead; None when the reported click
    does (a last-click program, an unknown visitor, or no earlier click). Bot clicks never take the credit. A
    visitor is the click's keyed IP hash, as for duplicate clicks and IP velocity (index tracking_click_visitor).
    Both postback paths decide with it (the fast path hands a conversion it changes to the full one)."""
    if model != Program.AttributionModel.FIRST_CLICK or not ip_hash:
        return None
    return (
        Click.objects.for_network(network_id).select_related("program")
        .filter(ip_hash=ip_hash, program_id=program_id, is_bot=False,
                created_at__gte=now - timedelta(days=window_days), created_at__lt=clicked_at)
        .order_by("created_at", "click_id")
        .first()
    )


def click_may_arrive(click_id: str, now: datetime) -> bool:
    """A click id with no click row is waited for (the click queue lags the redirect) when its time is recent."""
    age = (now - click_id_time(click_id)).total_seconds()
    return -300 <= age <= settings.CLICK_INGEST_GRACE_SECONDS


def attribute(
    *,
    network: Network,
    advertiser: Advertiser,
    now: datetime,
    click_id: str = "",
    coupon: CouponCode | None = None,
    customer_id: str = "",
    allow_pending: bool = True,
) -> Attribution:
    """Who gets the credit. Raises ValidationError for a malformed click id."""
    pending = False
    if click_id:
        if not is_click_id(click_id):
            raise ValidationError(
                {"click_id": ["Malformed click id: expected the 26-character id from the landing URL."]})
        click = click_find(network=network, click_id=click_id)
        if click is not None:
            program = click.program
            if click_attributes(program_advertiser_id=program.advertiser_id, advertiser_id=advertiser.pk,
                                clicked_at=click.created_at, window_days=program.attribution_window_days, now=now):
                first = first_click_before(
                    network_id=network.pk, program_id=program.pk, model=program.attribution_model,
                    ip_hash=click.ip_hash, window_days=program.attribution_window_days, clicked_at=click.created_at,
                    now=now)
                first_click_id = first.click_id if first is not None else ""
                click = first or click
                return Attribution(
                    kind=Conversion.Attribution.CLICK, program=click.program,
                    partnership_id=click.partnership_id,
                    affiliate_id=click.affiliate_id, link_id=click.link_id, coupon=coupon, click=click,
                    clicked_at=click.created_at, subs={name: getattr(click, name) for name in SUB_FIELDS},
                    country=click.country, first_click_id=first_click_id,
                )
        elif allow_pending:
            pending = click_may_arrive(click_id, now)
    if pending:
        return Attribution(coupon=coupon, pending=True)
    if coupon is not None:
        partnership = coupon.partnership
        if coupon.is_active and partnership.status == Partnership.Status.APPROVED:
            return Attribution(
                kind=Conversion.Attribution.COUPON, program=partnership.program, partnership_id=partnership.pk,
                affiliate_id=partnership.affiliate_id, coupon=coupon,
            )
        return Attribution(coupon=coupon)
    if customer_id:
        previous = (
            Conversion.objects.for_network(network)
            .select_related("program")
            .filter(advertiser=advertiser, customer_id=customer_id, affiliate__isnull=False, program__isnull=False)
            .exclude(status=Conversion.Status.REJECTED)
            .order_by("-created_at", "-id")
            .first()
        )
        if previous is not None:
            return Attribution(
                kind=Conversion.Attribution.CUSTOMER, program=previous.program, partnership_id=previous.partnership_id,
                affiliate_id=previous.affiliate_id, link_id=previous.link_id,
                subs={name: getattr(previous, name) for name in SUB_FIELDS}, country=previous.country,
            )
    return Attribution()
