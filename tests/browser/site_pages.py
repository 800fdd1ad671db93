"""Every web page of every party, derived from the URL conf and filled with ids from the demo data (`seed_demo`).

A route belongs to the party its path starts with (`advertiser/`, `partner/`, `operator/`); the rest of the
site's own pages (home, join, invitation, the account pages) are the stranger's. The API, the admin, media,
the click redirect, JSON and CSV answers are not pages. A route that answers GET with 405 is an action (a form's
POST target); `page_urls` lists every candidate and the browser test keeps those that answer a page.
"""

import re

from django.urls import URLPattern, URLResolver, get_resolver, reverse

PARTIES = ("stranger", "affiliate", "advertiser", "operator")
PREFIXES = {"advertiser/": "advertiser", "partner/": "affiliate", "operator/": "operator"}
NOT_PAGES = re.compile(r"^(api/|admin/|healthz|\^?media/|\^c/|switch/|dashboard/)|\.(json|csv)$")
# allauth's pages a person reaches; the rest (third-party flows, codes) are not linked from this site.
ACCOUNT_PAGES = {
    "account_login", "account_signup", "account_reset_password", "account_reset_password_done",
    "account_email_verification_sent", "account_inactive", "account_confirm_email",
    "account_reset_password_from_key", "account_reset_password_from_key_done",
}
SIGNED_IN_ACCOUNT_PAGES = {"account_change_password", "account_email"}
# The site's own pages for any signed-in person (a stranger is sent to log in): the ways in.
SIGNED_IN_PAGES = {"get_started", "network_start"}


def routes():
    """(route, name, parameter names) of every named URL pattern, nested includes flattened."""

    def walk(patterns, prefix, groups):
        for item in patterns:
            params = groups | set(item.pattern.regex.groupindex)
            if isinstance(item, URLResolver):
                yield from walk(item.url_patterns, prefix + str(item.pattern), params)
            elif isinstance(item, URLPattern) and item.name:
                yield prefix + str(item.pattern), item.name, params

    yield from walk(get_resolver().url_patterns, "", set())


def party_of(route: str, name: str) -> str | None:
    plain = route.replace("^", "")
    if NOT_PAGES.search(route):
        return None
    if name in SIGNED_IN_PAGES:
        return "signed_in"
    for prefix, party in PREFIXES.items():
        if plain.startswith(prefix):
            return party
    if plain.startswith("accounts/"):
        if name in ACCOUNT_PAGES:
            return "stranger"
        return "signed_in" if name in SIGNED_IN_ACCOUNT_PAGES else None
    return "stranger"


def page_urls(ids: dict[str, dict[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """party -> [(url name, path)] for every page route, each path once; `ids[url name]` holds the route's
    parameters (a `verb` takes the pattern's first choice). Routes whose object the demo lacks are listed
    under "unfilled"."""
    pages: dict[str, list[tuple[str, str]]] = {party: [] for party in (*PARTIES, "signed_in", "unfilled")}
    seen = set()
    for route, name, params in routes():
        party = party_of(route, name)
        if party is None:
            continue
        values = {key: value for key, value in ids.get(name, {}).items() if key in params}
        verbs = re.search(r"\(\?P<verb>([\w|]+)\)", route)
        if verbs:
            values["verb"] = verbs.group(1).split("|")[0]
        if set(values) != params:
            pages["unfilled"].append((name, route))
            continue
        path = reverse(name, kwargs=values)
        if path not in seen:
            seen.add(path)
            pages[party].append((name, path))
    return pages


def demo_ids() -> dict[str, dict[str, str]]:
    """The parameters of every routed page, from the demo network's objects (as its parties see them)."""
    from commissions.models import Commission
    from network.models import Advertiser, Affiliate, Network
    from payouts.models import Payout, PayoutBatch
    from programs.models import CouponCode, Creative, Partnership, Program
    from tracking.models import Conversion
    from tracking.models_outbound import Delivery, WebhookEndpoint

    network = Network.objects.get(slug="demo")
    advertiser = Advertiser.objects.get(network=network, email="merchant@northwind.test")
    affiliate = Affiliate.objects.get(network=network, email="ana@trailreviews.test")
    program = Program.objects.filter(network=network, advertiser=advertiser).order_by("id").first()
    commission = Commission.objects.filter(network=network, program__advertiser=advertiser,
                                           affiliate=affiliate).order_by("-id").first()
    conversion = Conversion.objects.filter(network=network, advertiser=advertiser).order_by("-id").first()
    webhook = WebhookEndpoint.objects.filter(network=network, advertiser=advertiser).first()
    delivery = Delivery.objects.filter(network=network, affiliate=affiliate).first()
    batch = PayoutBatch.objects.filter(network=network).order_by("id").first()
    payout = Payout.objects.filter(network=network).order_by("id").first()
    creative = Creative.objects.filter(network=network, program__advertiser=advertiser).first()
    coupon = CouponCode.objects.filter(network=network, partnership__program__advertiser=advertiser).first()
    partnership = Partnership.objects.filter(network=network, program__advertiser=advertiser).first()

    def pk(obj):
        return {"pk": obj.pk} if obj is not None else {}

    return {
        "network_join": {"slug": network.slug},
        "invitation_accept": {"uidb64": "MA", "token": "expired-token"},
        "account_confirm_email": {"key": "no-such-key"},
        "account_reset_password_from_key": {"uidb36": "0", "key": "no-such-key"},
        "advertiser_commission": pk(commission),
        "advertiser_commission_decide": pk(commission),
        "advertiser_conversion": pk(conversion),
        "advertiser_webhook": pk(webhook),
        "advertiser_webhook_action": pk(webhook),
        "operator_webhook": pk(webhook),
        "operator_webhook_action": pk(webhook),
        "advertiser_program": pk(program),
        "advertiser_program_edit": pk(program),
        "advertiser_program_status": pk(program),
        "advertiser_creative_new": pk(program),
        "advertiser_coupon_new": pk(program),
        "advertiser_program_invite": pk(program),
        "advertiser_creative_toggle": pk(creative),
        "advertiser_coupon_deactivate": pk(coupon),
        "advertiser_partnership_decide": pk(partnership),
        "partner_commission": pk(commission),
        "partner_delivery": pk(delivery),
        "operator_commission": pk(commission),
        "operator_batch": pk(batch),
        "operator_batch_results": pk(batch),
        "operator_payout_mark_paid": pk(payout),
        "operator_payout_mark_failed": pk(payout),
        "operator_payout_switch_method": pk(payout),
        "operator_advertiser": pk(advertiser),
        "operator_affiliate": pk(affiliate),
        "operator_advertiser_status": pk(advertiser),
        "operator_affiliate_status": pk(affiliate),
        "operator_fraud_decide": pk(commission),
    }
