"""`TenantQuerySet.visible_to(membership)`: the one role filter. Operators see their network's rows, an advertiser
and an affiliate the rows each model's `party_fields` lead to; another network's rows never."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from commissions.models import Commission
from network.models import Advertiser, Affiliate, Membership
from payouts.models import PayoutMethod
from programs.models import CouponCode, Creative, Partnership, Program, TrackingLink
from programs.selectors import creatives_visible_to, programs_visible_to
from tests.factories import (
    make_advertiser,
    make_conversion,
    make_coupon,
    make_link,
    make_partnership,
    make_program,
)
from tracking.models import ClickRollup, Conversion
from tracking.models_outbound import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

MODELS = (Program, Partnership, TrackingLink, CouponCode, Creative, Conversion, ClickRollup, Commission, Delivery,
          WebhookEndpoint, PayoutMethod, Affiliate, Advertiser)


@dataclass
class Rows:
    own: object  # the advertiser's program, the affiliate approved in it
    other: object  # another advertiser's public program, affiliate2 approved in it
    invite: object  # another advertiser's invite-only program, the affiliate's application pending
    draft: object  # the advertiser's draft, the affiliate partnered in it
    foreign: object  # network b's program, b's affiliate approved in it


def _sale(link, order_id):
    program = link.program
    conversion = make_conversion(program.advertiser, order_id=order_id, amount="100", link=link)
    Commission.objects.create(network_id=program.network_id, kind="sale", program=program,
                              advertiser=program.advertiser, affiliate_id=link.affiliate_id, conversion=conversion,
                              currency=program.currency, amount=Decimal("10"), revenue=Decimal("12"))
    return conversion


def _populate(program, affiliate, *, status="approved", code):
    partnership = make_partnership(program, affiliate, status=status)
    link = make_link(partnership)
    make_coupon(partnership, code=code)
    Creative.objects.create(network_id=program.network_id, program=program, kind="text", name=f"{code} text")
    ClickRollup.objects.create(network_id=program.network_id, program=program, affiliate=affiliate,
                               hour="2026-11-10T09:00:00Z", clicks=3, unique_clicks=2)
    Delivery.objects.create(network_id=program.network_id, kind="postback", event="conversion.created",
                            affiliate=affiliate, url="https://partner.test/pb")
    Delivery.objects.create(network_id=program.network_id, kind="webhook", event="conversion.created",
                            advertiser=program.advertiser, url="https://shop.test/hook")
    _sale(link, f"{code}-1")
    return partnership


@pytest.fixture
def rows(world) -> Rows:
    other_advertiser, _ = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    own = make_program(world.a.advertiser, name="Tents")
    other = make_program(other_advertiser, name="Boots")
    invite = make_program(other_advertiser, name="Hats", visibility=Program.Visibility.INVITE)
    draft = make_program(world.a.advertiser, name="Draft", status=Program.Status.DRAFT)
    foreign = make_program(world.b.advertiser, name="Bravo Gear")
    _populate(own, world.a.affiliate, code="OWN")
    _populate(other, world.a.affiliate2, code="OTHER")
    make_partnership(invite, world.a.affiliate, status="pending")
    make_partnership(draft, world.a.affiliate)
    _populate(foreign, world.b.affiliate, code="FOREIGN")
    for tenant in (world.a, world.b):
        WebhookEndpoint.objects.create(network=tenant.network, advertiser=tenant.advertiser,
                                       url="https://shop.test/hook", events=["*"])
        WebhookEndpoint.objects.create(network=tenant.network, url="https://ops.test/hook", events=["*"])
        PayoutMethod.objects.create(network=tenant.network, affiliate=tenant.affiliate, kind="paypal",
                                    paypal_email="blog@pay.test", is_default=True)
    return Rows(own=own, other=other, invite=invite, draft=draft, foreign=foreign)


def members(tenant) -> dict[str, Membership]:
    return {"owner": tenant.owner, "staff": tenant.staff, "advertiser": tenant.advertiser.membership,
            "affiliate": tenant.affiliate.membership, "affiliate2": tenant.affiliate2.membership}


def visible(model, membership) -> set[int]:
    return set(model.objects.visible_to(membership).values_list("pk", flat=True))


def network_rows(model, network) -> set[int]:
    return set(model.objects.for_network(network).values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_operators_see_every_row_of_their_network(world, rows, role):
    membership = members(world.a)[role]
    for model in MODELS:
        assert visible(model, membership) == network_rows(model, world.a.network), model.__name__


def test_an_advertiser_sees_its_programs_rows_only(world, rows):
    advertiser = world.a.advertiser
    membership = advertiser.membership
    assert visible(Program, membership) == {rows.own.pk, rows.draft.pk}
    assert visible(Partnership, membership) == set(
        Partnership.objects.filter(program__in=[rows.own, rows.draft]).values_list("pk", flat=True))
    assert {link.program_id for link in TrackingLink.objects.visible_to(membership)} == {rows.own.pk}
    assert [c.code for c in CouponCode.objects.visible_to(membership)] == ["OWN"]
    assert [c.program_id for c in Creative.objects.visible_to(membership)] == [rows.own.pk]
    assert [c.order_id for c in Conversion.objects.visible_to(membership)] == ["OWN-1"]
    assert [r.program_id for r in ClickRollup.objects.visible_to(membership)] == [rows.own.pk]
    assert [c.advertiser_id for c in Commission.objects.visible_to(membership)] == [advertiser.pk]
    assert [(d.kind, d.advertiser_id) for d in Delivery.objects.visible_to(membership)] == [
        ("webhook", advertiser.pk)]
    assert [e.advertiser_id for e in WebhookEndpoint.objects.visible_to(membership)] == [advertiser.pk]
    # The affiliates partnered in its programs (once each, though partnered in two), and itself as advertiser.
    assert list(Affiliate.objects.visible_to(membership)) == [world.a.affiliate]
    assert list(Advertiser.objects.visible_to(membership)) == [advertiser]
    # Payout methods name no advertiser path: an advertiser sees none.
    assert visible(PayoutMethod, membership) == set()


def test_an_affiliate_sees_its_own_rows_only(world, rows):
    affiliate = world.a.affiliate
    membership = affiliate.membership
    # Programs it partners in, whatever the partnership's or the program's status; not the marketplace's others.
    assert visible(Program, membership) == {rows.own.pk, rows.invite.pk, rows.draft.pk}
    assert {p.affiliate_id for p in Partnership.objects.visible_to(membership)} == {affiliate.pk}
    assert visible(Partnership, membership) == set(
        Partnership.objects.filter(affiliate=affiliate).values_list("pk", flat=True))
    assert {link.affiliate_id for link in TrackingLink.objects.visible_to(membership)} == {affiliate.pk}
    assert [c.code for c in CouponCode.objects.visible_to(membership)] == ["OWN"]
    assert [c.program_id for c in Creative.objects.visible_to(membership)] == [rows.own.pk]
    assert [c.order_id for c in Conversion.objects.visible_to(membership)] == ["OWN-1"]
    assert [r.affiliate_id for r in ClickRollup.objects.visible_to(membership)] == [affiliate.pk]
    assert [c.affiliate_id for c in Commission.objects.visible_to(membership)] == [affiliate.pk]
    assert [(d.kind, d.affiliate_id) for d in Delivery.objects.visible_to(membership)] == [("postback", affiliate.pk)]
    assert [m.affiliate_id for m in PayoutMethod.objects.visible_to(membership)] == [affiliate.pk]
    assert list(Affiliate.objects.visible_to(membership)) == [affiliate]
    # Webhook endpoints and advertisers name no affiliate path: an affiliate sees none.
    assert visible(WebhookEndpoint, membership) == set()
    assert visible(Advertiser, membership) == set()


def test_another_networks_rows_are_never_visible(world, rows):
    for tenant, other in ((world.a, world.b), (world.b, world.a)):
        for role, membership in members(tenant).items():
            for model in MODELS:
                seen = visible(model, membership)
                assert not seen & network_rows(model, other.network), (role, model.__name__)
                # Even on a queryset already narrowed to the other network.
                assert not model.objects.for_network(other.network).visible_to(membership).exists()


def test_a_membership_without_its_party_profile_sees_nothing(world, rows):
    membership = world.a.affiliate.membership
    Membership.objects.filter(pk=membership.pk).update(role="advertiser")  # an advertiser role, no Advertiser row
    membership.refresh_from_db()
    for model in MODELS:
        assert visible(model, membership) == set(), model.__name__


def test_a_path_through_a_one_to_many_relation_repeats_no_row_and_combines(world, rows):
    second = make_program(world.a.advertiser, name="Tarps")
    make_partnership(second, world.a.affiliate)
    membership = world.a.advertiser.membership
    affiliates = Affiliate.objects.visible_to(membership)
    assert affiliates.count() == 1 and list(affiliates) == [world.a.affiliate]
    combined = Program.objects.filter(name__startswith="T") & Program.objects.visible_to(world.a.affiliate.membership)
    assert sorted(p.name for p in combined) == ["Tarps", "Tents"]


def test_the_marketplace_widens_what_an_affiliate_sees_and_hides_drafts(world, rows):
    membership = world.a.affiliate.membership
    marketplace = set(programs_visible_to(network=world.a.network, membership=membership).values_list("pk", flat=True))
    assert marketplace == {rows.own.pk, rows.other.pk, rows.invite.pk}
    # Its reports (visible_to alone) cover the programs it partners in, drafts included, not the marketplace.
    assert visible(Program, membership) == {rows.own.pk, rows.invite.pk, rows.draft.pk}
    for role in ("owner", "advertiser"):
        other = members(world.a)[role]
        assert set(programs_visible_to(network=world.a.network, membership=other).values_list("pk", flat=True)) == (
            visible(Program, other))


def test_an_affiliate_uses_active_creatives_of_approved_programs_only(world, rows):
    membership = world.a.affiliate.membership
    Creative.objects.create(network_id=rows.own.network_id, program=rows.own, kind="text", name="old",
                            is_active=False)
    Creative.objects.create(network_id=rows.invite.network_id, program=rows.invite, kind="text", name="pending")
    assert visible(Creative, membership) == set(
        Creative.objects.filter(program__in=[rows.own, rows.invite]).values_list("pk", flat=True))
    assert [c.name for c in creatives_visible_to(network=world.a.network, membership=membership)] == ["OWN text"]
