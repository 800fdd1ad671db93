"""The e-mail telling a tracking domain's owner (its advertiser, or the network's owners for a network-wide domain)
that the daily re-check unverified it; sent after the unverifying transaction commits."""

from django.conf import settings
from django.utils.translation import gettext as _

from core.mail import send_after_commit

from .i18n import language_of
from .models import Membership, Network, Role, TrackingDomain


def _recipients(network: Network, tracking_domain: TrackingDomain) -> list[tuple[str, object]]:
    """(address, user) of whom to tell: the advertiser whose domain it is, else the network's active owners."""
    if tracking_domain.advertiser_id:
        advertiser = tracking_domain.advertiser
        membership = getattr(advertiser, "membership", None)
        return [(advertiser.email, membership.user if membership else None)] if advertiser.email else []
    owners = (Membership.objects.for_network(network).filter(role=Role.OWNER, is_active=True)
              .select_related("user").order_by("pk"))
    return [(m.user.email, m.user) for m in owners if m.user.email]


def tracking_domain_unverified_mail(*, network: Network, tracking_domain: TrackingDomain) -> None:
    words = {"domain": tracking_domain.domain, "checks": tracking_domain.failed_checks,
             "error": tracking_domain.check_error, "site": settings.SITE_URL}
    mails = []
    for address, user in _recipients(network, tracking_domain):
        with language_of(user=user, network=network):
            subject = _("%(domain)s is no longer verified") % words
            body = _("The daily check of your tracking domain %(domain)s failed %(checks)s times in a row, so it is "
                     "no longer verified: your links use the platform's address until you fix its DNS records and "
                     "verify it again (%(site)s).\n\nThe last check said: %(error)s") % words
        mails.append((subject, body, address))

    send_after_commit(mails)
