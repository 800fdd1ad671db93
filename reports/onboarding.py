"""Onboarding checklists of a new affiliate and a new advertiser: each step is ticked by the rows of what
actually happened (partnerships, links, payout methods, clicks, programs, keys, conversions), never by a stored
flag. Lives here, the layer that may read every app below it."""

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from network.models import Advertiser, Affiliate, ApiKey, AuditLog, Network
from payouts.models import PayoutMethod
from programs.models import Partnership, Program, TrackingLink
from tracking.models import ClickRollup, Conversion


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    hint: str
    url: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    steps: list[Step]

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def complete(self) -> bool:
        return all(step.done for step in self.steps)


def affiliate_checklist(*, network: Network, affiliate: Affiliate) -> Checklist:
    partnerships = Partnership.objects.for_network(network).filter(affiliate=affiliate)
    # The rollup's unique key leads with (network, program, affiliate): name the affiliate's programs.
    clicked = ClickRollup.objects.for_network(network).filter(
        program_id__in=partnerships.values("program_id"), affiliate=affiliate).exists()
    return Checklist(steps=[
        Step("apply", _("Apply to a program"), _("Pick programs that suit your audience in the marketplace."),
             reverse("partner_marketplace"), partnerships.exists()),
        Step("link", _("Get a tracking link"),
             _("Build a link (with sub IDs if you like) once a program approves you."),
             reverse("partner_links"),
             TrackingLink.objects.for_network(network).filter(affiliate=affiliate).exists()),
        Step("payout_method", _("Set a payout method"), _("Tell us where your commissions should be paid."),
             reverse("partner_payout_settings"),
             PayoutMethod.objects.for_network(network).filter(affiliate=affiliate).exists()),
        Step("first_click", _("Get your first click"), _("Share your link: the first visitor through it ticks this."),
             reverse("partner_links"), clicked),
    ])


def advertiser_checklist(*, network: Network, advertiser: Advertiser) -> Checklist:
    programs = Program.objects.for_network(network).filter(advertiser=advertiser)
    keys = ApiKey.objects.for_network(network).filter(membership_id=advertiser.membership_id, revoked_at__isnull=True)
    # The key made with the account on invitation was never shown to anyone: a key counts once the advertiser
    # created one (audited) or one has been used.
    created = AuditLog.objects.for_network(network).filter(
        action="api_key.created", target_type=ApiKey._meta.label_lower,
        target_id__in=[str(pk) for pk in keys.values_list("pk", flat=True)])
    has_key = keys.filter(last_used_at__isnull=False).exists() or created.exists()
    integration = reverse("advertiser_integration")
    partners = Partnership.objects.for_network(network).filter(program__in=programs).filter(
        Q(invited_at__isnull=False) | Q(status=Partnership.Status.APPROVED))
    return Checklist(steps=[
        Step("program", _("Create a program"), _("Set what partners earn and where your links land."),
             reverse("advertiser_program_new"), programs.exists()),
        Step("api_key", _("Create an API key"), _("Your server reports sales with it."),
             integration, has_key),
        Step("test_conversion", _("Send a test conversion"),
             _("One button on the Integration page records a marked test sale (no commission)."),
             integration + "#test-conversion",
             Conversion.objects.for_network(network).filter(advertiser=advertiser).exists()),
        Step("partners", _("Invite partners"), _("Invite affiliates to a program, or approve those who apply."),
             reverse("advertiser_programs"), partners.exists()),
    ])
