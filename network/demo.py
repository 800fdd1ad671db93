"""Demo tenancy: one network, its owner, two advertisers, three affiliates the operator added (two referred), and
one who signed up through Trail Reviews' referral link.

Demo users log in with the password DEMO_PASSWORD; their API keys are fixed so the
README's curl walkthrough works. Both are public: never seed a production database.
"""

from network import services
from network.accounts import affiliate_sign_up, email_mark_verified
from network.models import (
    Advertiser,
    Affiliate,
    ApiKey,
    Membership,
    Network,
    PartnerGroup,
    PartyStatus,
    Role,
    User,
)

DEMO_PASSWORD = "demo-pass-2026"
NETWORK_SLUG = "demo"

ADVERTISERS = [
    ("Northwind Outdoor", "merchant@northwind.test", "afk_demo_advertiser_northwind"),
    ("Blue Lantern SaaS", "billing@bluelantern.test", "afk_demo_advertiser_bluelantern"),
]
# (name, email, key, referred_by index, group)
AFFILIATES = [
    ("Trail Reviews", "ana@trailreviews.test", "afk_demo_affiliate_trail", None, "gold"),
    ("Deal Hunter", "ben@dealhunter.test", "afk_demo_affiliate_deals", 0, ""),
    ("Cloud Tools Blog", "chloe@cloudtools.test", "afk_demo_affiliate_cloud", 0, ""),
]
# Signed up on the join page through a referral link (`?ref=<code>` of the affiliate at this index).
REFERRED_SIGN_UP = ("Summit Stories", "maja@summitstories.test", 0)
OWNER = ("owner@demo.test", "afk_demo_owner")
GROUP_DESCRIPTIONS = {"gold": "Our best-performing content partners: higher sale rates."}


def _ensure_key(membership: Membership, raw: str) -> None:
    if not ApiKey.objects.filter(hashed_key=services.hash_api_key(raw)).exists():
        services.api_key_create(membership=membership, name="demo", raw=raw)


def _ensure_password(user: User) -> None:
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    # Web log-in requires a verified address; demo addresses are not real mailboxes.
    email_mark_verified(user=user)


def _group(network: Network, name: str) -> PartnerGroup:
    group = PartnerGroup.objects.for_network(network).filter(name=name).first()
    if group is None:
        group = services.partner_group_create(network=network, name=name, actor=None,
                                              description=GROUP_DESCRIPTIONS.get(name, ""))
    return group


def _referred_sign_up(network: Network, affiliates: list[Affiliate]) -> Affiliate:
    """The affiliate who joined through a referral link, as the join page signs one up (then approved)."""
    name, email, referrer = REFERRED_SIGN_UP
    affiliate = Affiliate.objects.for_network(network).filter(email=email).first()
    if affiliate is None:
        affiliate = affiliate_sign_up(network=network, name=name, email=email, password=DEMO_PASSWORD,
                                      referred_by=affiliates[referrer])
    if affiliate.status != PartyStatus.ACTIVE:
        services.party_set_status(network=network, party=affiliate, status=PartyStatus.ACTIVE, actor=None)
        affiliate.status = PartyStatus.ACTIVE
    _ensure_password(affiliate.membership.user)
    return affiliate


def seed(ctx: dict) -> None:
    network = Network.objects.filter(slug=NETWORK_SLUG).first()
    if network is None:
        network, _ = services.network_create(
            name="Demo Network", slug=NETWORK_SLUG, currency="EUR", owner_email=OWNER[0],
            timezone_name="Europe/Berlin", is_public=True,
        )
    elif not network.is_public:
        # Listed on the home page: a stranger finds the demo's join page (seeded before the flag existed).
        Network.objects.filter(pk=network.pk).update(is_public=True)
        network.is_public = True
    if network.language != "en":
        # The demo speaks English to everyone who has not chosen a language (the switcher changes it per person).
        network.language = "en"
        network.save(update_fields=["language"])
    owner = Membership.objects.get(network=network, role=Role.OWNER, user__email=OWNER[0])
    _ensure_key(owner, OWNER[1])
    _ensure_password(owner.user)
    if not owner.user.is_staff:
        owner.user.is_staff = owner.user.is_superuser = True
        owner.user.save(update_fields=["is_staff", "is_superuser"])

    advertisers = []
    for name, email, key in ADVERTISERS:
        advertiser = Advertiser.objects.for_network(network).filter(email=email).first()
        if advertiser is None:
            advertiser, _ = services.advertiser_create(network=network, name=name, email=email)
        _ensure_key(advertiser.membership, key)
        _ensure_password(advertiser.membership.user)
        advertisers.append(advertiser)

    affiliates = []
    for name, email, key, referrer, group in AFFILIATES:
        affiliate = Affiliate.objects.for_network(network).filter(email=email).first()
        if affiliate is None:
            affiliate, _ = services.affiliate_create(
                network=network, name=name, email=email,
                referred_by=affiliates[referrer] if referrer is not None else None,
            )
        if group and (affiliate.group is None or affiliate.group.name != group):
            services.partner_group_assign(network=network, group=_group(network, group), affiliates=[affiliate],
                                          actor=None)
        _ensure_key(affiliate.membership, key)
        _ensure_password(affiliate.membership.user)
        affiliates.append(affiliate)

    affiliates.append(_referred_sign_up(network, affiliates))

    ctx.update(network=network, owner=owner, advertisers=advertisers, affiliates=affiliates)
    ctx.setdefault("summary", []).extend([
        f"Network: {network.name} (slug '{network.slug}', {network.default_currency})",
        f"Log in at /accounts/login/ as {OWNER[0]} / {DEMO_PASSWORD} (every demo user has this password;"
        f" advertiser {ADVERTISERS[0][1]}, affiliate {AFFILIATES[0][1]}); /admin/ for the superuser.",
        f"API keys: owner {OWNER[1]}, advertiser {ADVERTISERS[0][2]}, affiliate {AFFILIATES[0][2]}",
    ])
