"""Branded tracking domains: checking a name, adding, verifying (DNS: the CNAME to the target and the ownership TXT
token), the daily re-check and deleting one. Which host belongs to which network, and the base URL links are built
on, are in network.hosts."""

import ipaddress
import logging
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http.request import validate_host
from django.utils import timezone
from django.utils.translation import gettext

from . import hosts
from .domain_emails import tracking_domain_unverified_mail
from .models import Advertiser, Network, TrackingDomain, User, VerifiedDomain
from .services import audit_log_record

logger = logging.getLogger(__name__)
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
DNS_TIMEOUT_SECONDS = 5.0
# getaddrinfo has no timeout of its own: it runs here and is waited for at most DNS_TIMEOUT_SECONDS.
_dns = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")


def cname_target() -> str:
    """The host name a tracking domain's CNAME record must point to."""
    return settings.TRACKING_CNAME_TARGET


def challenge_name(domain: str) -> str:
    """The name of the TXT record that proves who owns `domain`; its value is the domain's challenge token."""
    return f"_affiliate-verify.{domain}"


def _invalid(message: str) -> ValidationError:
    return ValidationError({"domain": [message]}, code="invalid")


def domain_clean(value: str) -> str:
    """The host name in its stored form (lower case, ASCII, no trailing dot), or a ValidationError on `domain`:
    an IP address, a URL (scheme, path, port), a bare top-level domain, a malformed name, the platform's own."""
    raw = (value or "").strip().lower()
    if not raw:
        raise _invalid(gettext("Give a host name, e.g. trk.example.com."))
    if "://" in raw or any(c in raw for c in "/?#@\\"):
        raise _invalid(gettext("Give the host name only: no scheme (https://), path or query."))
    try:
        ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        pass
    else:
        raise _invalid(gettext("An IP address cannot be a tracking domain: give a host name that CNAMEs to the "
                               "target."))
    if ":" in raw:
        raise _invalid(gettext("Give the host name without a port."))
    name = raw.removesuffix(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise _invalid(gettext("Not a valid host name.")) from None
    labels = name.split(".")
    if len(name) > 253 or not all(LABEL_RE.match(label) for label in labels):
        raise _invalid(gettext("Not a valid host name: letters, digits and hyphens in dot-separated parts."))
    if len(labels) < 2:
        raise _invalid(gettext("A top-level domain alone cannot be a tracking domain: give a host name like "
                               "trk.example.com."))
    if labels[-1].isdigit():
        raise _invalid(gettext("An IP address cannot be a tracking domain: give a host name that CNAMEs to the "
                               "target."))
    if _is_platform_host(name):
        raise _invalid(gettext("This is the platform's own host name."))
    return name


def _is_platform_host(name: str) -> bool:
    own = {urlsplit(url).hostname for url in (settings.SITE_URL, settings.TRACKING_BASE_URL) if url}
    if name in own or name == cname_target():
        return True
    # The configured host names ("*" aside, which allows any host and names none).
    return validate_host(name, [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"])


def _taken(domain: str, network: Network) -> str | None:
    if TrackingDomain.objects.filter(network=network, domain=domain).exists():
        return gettext("This network already has this domain.")
    if VerifiedDomain.objects.filter(domain=domain).exists():
        return gettext("This domain is already in use.")
    return None


@transaction.atomic
def tracking_domain_add(*, network: Network, domain: str, advertiser: Advertiser | None = None,
                        actor: User | None = None) -> TrackingDomain:
    domain = domain_clean(domain)
    if advertiser is not None and advertiser.network_id != network.pk:
        raise ValidationError({"advertiser": ["Unknown advertiser."]})
    if problem := _taken(domain, network):
        raise _invalid(problem)
    try:
        with transaction.atomic():
            row = TrackingDomain.objects.create(network=network, advertiser=advertiser, domain=domain)
    except IntegrityError:  # the same name added at the same moment
        raise _invalid(gettext("This network already has this domain.")) from None
    audit_log_record(network=network, actor=actor, action="tracking_domain.added", target=row,
                     data={"domain": domain, "advertiser": advertiser.pk if advertiser else None})
    return row


# --- DNS ----------------------------------------------------------------------------------
def resolve(name: str) -> tuple[str, frozenset[str]]:
    """(canonical name after any CNAME chain, addresses) of a host name; OSError when it does not resolve."""
    future = _dns.submit(socket.getaddrinfo, name, None, proto=socket.IPPROTO_TCP, flags=socket.AI_CANONNAME)
    try:
        infos = future.result(timeout=DNS_TIMEOUT_SECONDS)
    except FutureTimeout:
        raise OSError(f"no answer within {DNS_TIMEOUT_SECONDS:g} s") from None
    canonical = next((info[3] for info in infos if info[3]), name)
    return canonical.rstrip(".").lower(), frozenset(info[4][0] for info in infos)


def txt_records(name: str) -> list[str]:
    """The TXT strings published at `name` (none when the name has no TXT record); OSError when DNS does not
    answer."""
    resolver = dns.resolver.Resolver()
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise OSError(str(exc) or type(exc).__name__) from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def owns(domain: str, token: str) -> tuple[bool, str]:
    """Whether the TXT record `_affiliate-verify.<domain>` carries `token`, and what is wrong when it does not."""
    name = challenge_name(domain)
    try:
        values = txt_records(name)
    except OSError as exc:
        return False, f"The TXT record {name} could not be read ({exc})."
    if token in (value.strip() for value in values):
        return True, ""
    return False, f"Add a TXT record {name} with the value {token} (it proves the domain is yours)."


def dns_check(tracking_domain: TrackingDomain) -> str:
    """What keeps the domain from being verified ("" when its CNAME points to the target and its TXT record
    carries its token). Slow (DNS): call it outside transactions."""
    ok, why = points_to(tracking_domain.domain, cname_target())
    if not ok:
        return why
    ok, why = owns(tracking_domain.domain, tracking_domain.challenge_token)
    return "" if ok else why


def points_to(domain: str, target: str) -> tuple[bool, str]:
    """Whether `domain` resolves to `target`, and what it resolves to (for the message of a failure).

    Its CNAME chain ends at the target (or where the target's own chain ends), or, for a name that cannot carry
    a CNAME (an apex with ALIAS/flattening), all its addresses are the target's."""
    try:
        canonical, addresses = resolve(domain)
    except OSError as exc:
        return False, gettext("%(domain)s does not resolve (%(error)s).") % {"domain": domain, "error": exc}
    if canonical == target:
        return True, ""
    try:
        target_canonical, target_addresses = resolve(target)
    except OSError as exc:
        return False, gettext("The CNAME target %(target)s does not resolve (%(error)s).") % {"target": target,
                                                                                              "error": exc}
    if canonical == target_canonical or (addresses and addresses <= target_addresses):
        return True, ""
    seen = canonical if canonical != domain else ", ".join(sorted(addresses))
    return False, gettext("%(domain)s resolves to %(seen)s, not to %(target)s. Add a CNAME record %(domain)s -> "
                          "%(target)s.") % {"domain": domain, "seen": seen, "target": target}


def _check_recorded(network: Network, tracking_domain: TrackingDomain, error: str, **fields) -> None:
    tracking_domain.checked_at, tracking_domain.check_error = timezone.now(), error[:500]
    for name, value in fields.items():
        setattr(tracking_domain, name, value)
    TrackingDomain.objects.filter(network=network, pk=tracking_domain.pk).update(
        checked_at=tracking_domain.checked_at, check_error=tracking_domain.check_error, **fields)


def tracking_domain_verify(*, network: Network, tracking_domain: TrackingDomain,
                           actor: User | None = None) -> TrackingDomain:
    """Check DNS (the CNAME and the TXT token) and mark the domain verified; a ValidationError says why not (nothing
    changes then: a refused request records nothing). A name is verified by one network at most: VerifiedDomain's
    key decides between two verifying at the same moment."""
    if tracking_domain.verified:
        return tracking_domain
    why = dns_check(tracking_domain)  # outside the transaction: it may take seconds
    if why:
        raise ValidationError({"detail": [why]}, code="not_verified")
    with transaction.atomic():
        try:
            with transaction.atomic():
                VerifiedDomain.objects.create(domain=tracking_domain.domain, network=network)
        except IntegrityError:  # another network holds it (or verified it a moment ago, and waited on our row)
            raise ValidationError({"detail": [gettext("This domain is already in use by another network.")]},
                                  code="in_use") from None
        now = timezone.now()
        updated = TrackingDomain.objects.filter(pk=tracking_domain.pk, network=network,
                                                verified_at__isnull=True).update(
            verified_at=now, checked_at=now, check_error="", failed_checks=0)
        tracking_domain.refresh_from_db()
        if updated:
            audit_log_record(network=network, actor=actor, action="tracking_domain.verified", target=tracking_domain,
                             data={"domain": tracking_domain.domain})
        _forget(network, tracking_domain.domain)
    return tracking_domain


def tracking_domain_recheck(*, network: Network, tracking_domain: TrackingDomain) -> TrackingDomain:
    """The daily re-check of a verified domain: a pass clears its failures; a failure is counted, and at
    TRACKING_DOMAIN_MAX_FAILED_CHECKS in a row the domain is unverified (its links use the platform's address
    again) and its owner is e-mailed."""
    why = dns_check(tracking_domain)
    if not why:
        _check_recorded(network, tracking_domain, "", failed_checks=0)
        return tracking_domain
    with transaction.atomic():
        row = TrackingDomain.objects.select_for_update().filter(network=network, pk=tracking_domain.pk).first()
        if row is None or not row.verified:
            return row or tracking_domain
        failed = row.failed_checks + 1
        if failed < settings.TRACKING_DOMAIN_MAX_FAILED_CHECKS:
            _check_recorded(network, row, why, failed_checks=failed)
            return row
        _check_recorded(network, row, why, failed_checks=failed, verified_at=None)
        VerifiedDomain.objects.filter(domain=row.domain, network=network).delete()
        audit_log_record(network=network, actor=None, action="tracking_domain.unverified", target=row,
                         data={"domain": row.domain, "failed_checks": failed, "error": why[:500]})
        _forget(network, row.domain)
        tracking_domain_unverified_mail(network=network, tracking_domain=row)
    return row


# A domain checked more recently than this is left for the next day's run (a rerun of the task checks nothing twice).
RECHECK_AFTER = timedelta(hours=20)


def tracking_domains_recheck(*, now=None) -> int:
    """Re-check every verified tracking domain of every network not checked in the last RECHECK_AFTER (the daily
    beat task). Returns how many were checked."""
    checked = 0
    due = Q(checked_at__isnull=True) | Q(checked_at__lt=(now or timezone.now()) - RECHECK_AFTER)
    for network in Network.objects.order_by("pk"):
        for row in TrackingDomain.objects.filter(due, network=network, verified_at__isnull=False).order_by("pk"):
            try:
                tracking_domain_recheck(network=network, tracking_domain=row)
            except Exception:  # one domain's trouble (a database hiccup) must not stop the others' checks
                logger.exception("Re-check of tracking domain %s failed", row.domain)
                continue
            checked += 1
    return checked


@transaction.atomic
def tracking_domain_delete(*, network: Network, tracking_domain: TrackingDomain, actor: User | None = None) -> None:
    domain = tracking_domain.domain
    audit_log_record(network=network, actor=actor, action="tracking_domain.deleted", target=tracking_domain,
                     data={"domain": domain})
    TrackingDomain.objects.filter(pk=tracking_domain.pk, network=network).delete()
    VerifiedDomain.objects.filter(domain=domain, network=network).delete()
    _forget(network, domain)


def _forget(network: Network, domain: str) -> None:
    # Now (this process reads its own writes) and after the commit (a reader in between may have cached the old).
    hosts.forget(network_id=network.pk, domain=domain)
    transaction.on_commit(lambda: hosts.forget(network_id=network.pk, domain=domain))
