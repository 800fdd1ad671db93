"""Web accounts: affiliate self sign-up on a network's join page, invitations by e-mail.

Invitation links reuse Django's password-reset tokens (single use: they embed the password
hash and last login), so accepting one sets the password, proves the address and logs in.
"""

import secrets

from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from . import services
from .i18n import language_for, language_of
from .models import Advertiser, Affiliate, Membership, Network, PartyStatus, Role, User


def email_mark_verified(*, user: User) -> None:
    """The user proved they read mail at their address (invitation accepted, e-mail confirmed)."""
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    if not address.verified or not address.primary:
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


@receiver(password_reset, dispatch_uid="network.accounts.reset_proves_address")
def _reset_proves_address(sender, request, user, **kwargs) -> None:
    # The reset link reached the user's mailbox: an operator created by bootstrap_network (no
    # password yet) sets one this way and need not confirm the same address again.
    email_mark_verified(user=user)


@transaction.atomic
def affiliate_sign_up(*, network: Network, name: str, email: str, password: str | None,
                      referred_by: Affiliate | None = None) -> Affiliate:
    """A self sign-up from the join page: pending when the network approves affiliates first.

    `password` is None for a logged-in user who joins one more network with the account they have.
    `referred_by`: the affiliate whose referral link brought them (one of `network`'s).
    """
    status = PartyStatus.PENDING if network.affiliate_approval_required else PartyStatus.ACTIVE
    affiliate, _ = services.affiliate_create(network=network, name=name, email=email, status=status,
                                             referred_by=referred_by)
    user = affiliate.membership.user
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"primary": True})
    services.audit_log_record(
        network=network, actor=user, action="affiliate.signed_up", target=affiliate, data={"status": status}
    )
    return affiliate


def account_exists(email: str) -> bool:
    """Whether an account has this address. When one has, a throwaway password is hashed as a sign-up hashes
    the new one: both answers take about as long (the public join page must not tell them apart)."""
    exists = User.objects.filter(email__iexact=email).exists()
    if exists:
        make_password(secrets.token_urlsafe())
    return exists


def join_existing_notify(*, network: Network, email: str, base_url: str) -> None:
    """Someone tried to sign up to `network` with the address of an existing account: tell its owner how to join
    (log in, then open the join page); nothing is created."""
    context = {"network": network, "login_url": base_url + reverse("account_login"),
               "join_url": base_url + reverse("network_join", args=[network.slug])}
    with language_of(user=User.objects.filter(email__iexact=email).first(), network=network):
        send_mail(
            subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Joining %(network)s") % {"network": network.name},
            message=render_to_string("emails/join_existing.txt", context),
            from_email=None,
            recipient_list=[email],
        )


def invitation_url(*, user: User, base_url: str) -> str:
    """Where an invited person sets a password; an existing account just logs in."""
    if user.has_usable_password():
        return base_url + reverse("account_login")
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return base_url + reverse("invitation_accept", args=[uidb64, default_token_generator.make_token(user)])


def invitation_send(*, membership: Membership, base_url: str, invited_by: User | None) -> None:
    with language_of(user=membership.user, network=membership.network):
        _invitation_send(membership=membership, base_url=base_url, invited_by=invited_by)


def _invitation_send(*, membership: Membership, base_url: str, invited_by: User | None) -> None:
    context = {
        "network": membership.network,
        "role": membership.get_role_display(),
        "url": invitation_url(user=membership.user, base_url=base_url),
        "invited_by": invited_by,
        "has_password": membership.user.has_usable_password(),
    }
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        + _("You are invited to %(network)s") % {"network": membership.network.name},
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[membership.user.email],
    )


def advertiser_invite(*, network: Network, name: str, email: str, actor: User, base_url: str) -> Advertiser:
    with transaction.atomic():
        advertiser, _ = services.advertiser_create(network=network, name=name, email=email, actor=actor)
    invitation_send(membership=advertiser.membership, base_url=base_url, invited_by=actor)
    return advertiser


def staff_invite(*, network: Network, name: str, email: str, actor: User, base_url: str) -> Membership:
    with transaction.atomic():
        membership = services.membership_create(network=network, email=email, role=Role.STAFF, name=name)
        services.audit_log_record(network=network, actor=actor, action="staff.invited", target=membership)
    invitation_send(membership=membership, base_url=base_url, invited_by=actor)
    return membership


def party_status_notify(*, party: Advertiser | Affiliate, previous: str, base_url: str) -> None:
    """Tell an affiliate that its application was approved or declined (other changes stay silent)."""
    if not isinstance(party, Affiliate) or previous != PartyStatus.PENDING or party.status == PartyStatus.PENDING:
        return
    approved = party.status == PartyStatus.ACTIVE
    context = {"party": party, "network": party.network, "approved": approved,
               "url": base_url + reverse("account_login")}
    with language_of(user=party.membership.user, network=party.network):
        subject = (_("Your application to %(network)s was approved") if approved
                   else _("Your application to %(network)s was declined")) % {"network": party.network.name}
        send_mail(
            subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
            message=render_to_string("emails/application_decided.txt", context),
            from_email=None,
            recipient_list=[party.membership.user.email],
        )


def operators_notify_sign_up(*, affiliate: Affiliate, base_url: str) -> None:
    """Tell the network's operators that an affiliate waits for their approval."""
    operators = (Membership.objects.for_network(affiliate.network_id)
                 .filter(role__in=[Role.OWNER, Role.STAFF], is_active=True).select_related("user"))
    # One e-mail per language the operators read (usually one for all of them).
    by_language: dict[str, list[str]] = {}
    for membership in operators:
        by_language.setdefault(language_for(user=membership.user, network=affiliate.network), []).append(
            membership.user.email)
    context = {"affiliate": affiliate, "network": affiliate.network,
               "url": base_url + reverse("operator_affiliates") + "?status=pending"}
    for language, recipients in by_language.items():
        with translation.override(language):
            send_mail(
                subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("%(name)s wants to join %(network)s") % {
                    "name": affiliate.name, "network": affiliate.network.name},
                message=render_to_string("emails/sign_up_pending.txt", context),
                from_email=None,
                recipient_list=recipients,
            )
