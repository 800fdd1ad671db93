"""Test data makers: `NetworkFactory` (factory_boy) for the tenant, and `make_*` functions for the rest, which go
through the services where one exists (a membership, a party and its API key are made together, as in the app) and
create rows directly only where no service does (programs, links, clicks, conversions). Each app's tests add their
own helpers beside them (`tests/<app>/helpers.py`)."""

import factory

from network import services
from network.models import Network, Role


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Network {n}")
    slug = factory.Sequence(lambda n: f"network-{n}")
    default_currency = "EUR"
    timezone = "UTC"


def make_owner(network: Network, email: str, role: str = Role.OWNER):
    membership = services.membership_create(network=network, email=email, role=role)
    return membership, services.api_key_create(membership=membership).raw


def make_advertiser(network: Network, name: str, email: str):
    return services.advertiser_create(network=network, name=name, email=email)


def make_affiliate(network: Network, name: str, email: str, referred_by=None):
    return services.affiliate_create(network=network, name=name, email=email, referred_by=referred_by)


def make_group(network: Network, name: str = "gold", *affiliates, description: str = ""):
    """A partner group of the network, with these affiliates in it."""
    group = services.partner_group_create(network=network, name=name, description=description, actor=None)
    if affiliates:
        services.partner_group_assign(network=network, group=group, affiliates=list(affiliates), actor=None)
    return group


# --- programs ----------------------------------------------------------------------------
def make_program(advertiser, *, name="Outdoor Gear", landing_url="https://shop.example.com/", currency=None,
                 rules=None, **fields):
    """A program with its rules (default: one 10 % sale rule). `rules` is a list of CommissionRule field dicts."""
    from decimal import Decimal

    from programs.models import CommissionRule, Program

    program = Program.objects.create(
        network_id=advertiser.network_id,
        advertiser=advertiser,
        name=name,
        landing_url=landing_url,
        currency=currency or advertiser.network.default_currency,
        allowed_domains=fields.pop("allowed_domains", ["shop.example.com"]),
        **fields,
    )
    for rule in rules if rules is not None else [{"event": "sale", "kind": "percent", "payout": Decimal("10")}]:
        CommissionRule.objects.create(network_id=program.network_id, program=program, **rule)
    return program


def make_partnership(program, affiliate, status="approved"):
    from programs.models import Partnership

    return Partnership.objects.create(network_id=program.network_id, program=program, affiliate=affiliate,
                                      status=status)


def make_link(partnership, **fields):
    from programs.models import TrackingLink

    return TrackingLink.objects.create(
        network_id=partnership.network_id, partnership=partnership, program_id=partnership.program_id,
        affiliate_id=partnership.affiliate_id, **fields,
    )


def make_coupon(partnership, code="SAVE10"):
    from programs.models import CouponCode

    return CouponCode.objects.create(network_id=partnership.network_id, partnership=partnership, code=code.upper())


# --- tracking ----------------------------------------------------------------------------
def make_click(link, *, click_id=None, created_at=None, **fields):
    """A click row as the ingester would write it (for tests that need one without the redirect)."""
    import secrets

    from django.utils import timezone

    from tracking.models import Click

    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    click = Click.objects.create(
        network_id=link.network_id, click_id=click_id or "".join(secrets.choice(alphabet) for _ in range(26)),
        program_id=link.program_id, partnership_id=link.partnership_id, link=link, affiliate_id=link.affiliate_id,
        created_at=created_at or timezone.now(), **fields,
    )
    link_rollup_add(click)
    return click


def link_rollup_add(click):
    """The click's count in its link's hourly LinkRollup, as the ingester adds it with the click."""
    from datetime import UTC

    from django.db.models import F

    from tracking.daily import counts_unique
    from tracking.models import LinkRollup

    hour = click.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    unique = 1 if counts_unique({"is_unique": click.is_unique, "is_bot": click.is_bot,
                                 "off_target": click.off_target}) else 0
    row, _ = LinkRollup.objects.get_or_create(network_id=click.network_id, link_id=click.link_id, hour=hour)
    LinkRollup.objects.filter(network_id=click.network_id, pk=row.pk).update(
        clicks=F("clicks") + 1, unique_clicks=F("unique_clicks") + unique)


def make_conversion(advertiser, *, order_id, amount, currency=None, link=None, **fields):
    """A conversion row (attributed to `link`'s partnership when given) without going through the API."""
    from decimal import Decimal

    from tracking.models import Conversion

    attributed = {}
    if link is not None:
        attributed = {"program_id": link.program_id, "partnership_id": link.partnership_id,
                      "affiliate_id": link.affiliate_id, "link": link, "attribution": "click"}
    from tracking.daily import conversions_added

    conversion = Conversion.objects.create(
        network_id=advertiser.network_id, advertiser=advertiser, order_id=order_id, amount=Decimal(amount),
        currency=currency or advertiser.network.default_currency, **(attributed | fields),
    )
    conversions_added(conversion.network_id, [conversion.pk])  # as the recording services do
    return conversion


def days_rebuilt(network) -> None:
    """Rows written around the services (rollups, back-dated conversions): rebuild the network's day tables from
    them, as `manage.py rebuild_daily_figures` does."""
    from reports.rebuild import days_rebuild

    days_rebuild(getattr(network, "pk", network))
