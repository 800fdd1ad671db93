"""The image pixel's per-advertiser token: issued on first ask, rotated by the advertiser, looked up by the pixel.

Tokens read `px_<advertiser id>_<random hex>`. Advertisers that had a pixel before tokens were stored keep the
token they had (migration 0012 stored it), so pixels already on merchants' pages keep working until rotated.
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from network.models import Advertiser, Network, PartyStatus, User
from network.services import audit_log_record

from .models_pixel import PixelToken


def new_pixel_token(advertiser_id: int) -> str:
    return f"px_{advertiser_id}_{secrets.token_hex(16)}"


def pixel_token_get(*, network: Network, advertiser: Advertiser) -> str:
    """The advertiser's token, issued now when it has none."""
    existing = PixelToken.objects.for_network(network).filter(advertiser=advertiser).values_list(
        "token", flat=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return PixelToken.objects.create(network=network, advertiser=advertiser,
                                             token=new_pixel_token(advertiser.pk)).token
    except IntegrityError:  # a concurrent first ask issued it
        return PixelToken.objects.get(network=network, advertiser=advertiser).token


@transaction.atomic
def pixel_token_rotate(*, network: Network, advertiser: Advertiser, actor: User | None = None) -> str:
    """A new token for the advertiser; the old one answers as an unknown pixel from now on."""
    token = new_pixel_token(advertiser.pk)
    updated = PixelToken.objects.for_network(network).filter(advertiser=advertiser).update(
        token=token, rotated_at=timezone.now())
    if not updated:
        PixelToken.objects.create(network=network, advertiser=advertiser, token=token, rotated_at=timezone.now())
    audit_log_record(network=network, actor=actor, action="pixel_token.rotated", target=advertiser)
    return token


def dangerously_advertiser_for_pixel_token(token: str) -> Advertiser | None:
    """Unscoped on purpose: the token itself names the advertiser (and so the network). Active advertisers only."""
    if not isinstance(token, str) or not token.startswith("px_") or len(token) > 64:
        return None
    row = PixelToken.objects.select_related("advertiser__network").filter(
        token=token, advertiser__status=PartyStatus.ACTIVE).first()
    return row.advertiser if row is not None else None
