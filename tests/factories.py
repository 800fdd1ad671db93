"""factory_boy factories for every model; each app's tests may add their own beside them."""

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
