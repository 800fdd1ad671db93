"""The demo shop: Northwind's site as the demo's tracking links land on it (DEMO_SHOP_URL), served by the app so the
whole loop can be tried in a browser: a link -> this page (track.js keeps the click id) -> "Buy" -> the image
pixel's conversion path (the advertiser's pixel token, public by design: no secret key in the page) -> a
commission on the partner's dashboard.

Only there when the installation has a demo shop (DEMO_SHOP_URL) and seed_demo made the demo network."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from core.views import PageNotFound
from network import demo
from network.models import Advertiser, Network, PartyStatus
from programs.models import Program

from .pixel import pixel_token_get

# (sku, name, price): Northwind's shelf; prices in the program's currency.
PRODUCTS = [
    ("tent", _("Ridge 2 trail tent"), "249.00"),
    ("pack", _("Summit 28 l daypack"), "89.90"),
    ("boots", _("Granite hiking boots"), "159.00"),
]
DEMO_ADVERTISER_EMAIL = demo.ADVERTISERS[0][1]


def demo_shop(request):
    if not settings.DEMO_SHOP_URL:
        raise PageNotFound(_("This installation has no demo shop."))
    network = Network.objects.filter(slug=demo.NETWORK_SLUG).first()
    advertiser = network and Advertiser.objects.for_network(network).filter(
        email=DEMO_ADVERTISER_EMAIL, status=PartyStatus.ACTIVE).first()
    if advertiser is None:
        raise PageNotFound(_("The demo shop opens once the demo data is loaded (manage.py seed_demo)."))
    programs = Program.objects.for_network(network).filter(advertiser=advertiser).order_by("id")
    currency = programs.values_list("currency", flat=True).first() or network.default_currency
    return render(request, "demo/shop.html", {
        "advertiser": advertiser, "currency": currency, "products": PRODUCTS,
        "pixel_token": pixel_token_get(network=network, advertiser=advertiser),
        "newsletter": request.GET.get("list") == "newsletter",
    })
