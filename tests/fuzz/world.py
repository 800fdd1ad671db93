"""The seeded network the API fuzzer runs against, an offline outbound network, and a fingerprint of the rows."""

import contextlib
import hashlib
import ipaddress
import re
import socket
from dataclasses import dataclass, field

from django.apps import apps

PUBLIC_IP = "93.184.215.14"


class _OfflineSocket:
    """What `tracking.netguard` uses of `socket`: names resolve to one public address, nothing connects."""

    IPPROTO_TCP = socket.IPPROTO_TCP
    gaierror = socket.gaierror

    @staticmethod
    def getaddrinfo(host, port, *args, **kwargs):
        try:
            address = str(ipaddress.ip_address(host))  # a literal resolves to itself (the guard judges it)
        except ValueError:
            address = PUBLIC_IP
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    @staticmethod
    def create_connection(*args, **kwargs):
        raise ConnectionRefusedError("offline")


@contextlib.contextmanager
def offline_outbound():
    """Webhooks and postbacks go through the real SSRF guard, and are answered 204 without leaving the process;
    tracking domains resolve to nothing (their verification answers 400)."""
    from tracking import netguard

    def answer(method, url, *, body=b"", headers=None, timeout=None):
        netguard.resolve_safe(url)
        return netguard.Response(204, b"", 1)

    def no_dns(name):
        raise OSError("offline")

    from network import domains

    saved = netguard.socket, netguard.request, domains.resolve
    netguard.socket, netguard.request, domains.resolve = _OfflineSocket, answer, no_dns
    try:
        yield
    finally:
        netguard.socket, netguard.request, domains.resolve = saved


@dataclass
class World:
    keys: dict  # role -> raw API key, all in network "alpha"
    ids: dict  # API path prefix -> ids of real objects (alpha's, then bravo's: those must answer 404)
    fingerprint: str = ""
    tenants: list = field(default_factory=list)


def _seed_tenant(tenant) -> dict:
    from commissions.models import Transaction
    from network import services as network_services
    from network.models import Announcement
    from payouts import services as payout_services
    from payouts.batches import payout_batch_run, payout_batch_start
    from programs import services as program_services
    from tests.commissions.helpers import convert, program_with_link
    from tests.factories import make_click, make_coupon, make_partnership, make_program
    from tests.payouts.helpers import earn
    from tracking import services as tracking_services

    network = tenant.network
    program, link = program_with_link(tenant, hold_days=30)
    make_click(link, sub1="fb")
    manual = make_program(tenant.advertiser, name="Invite Only", approval="manual")
    make_partnership(manual, tenant.affiliate2, status="pending")
    make_coupon(link.partnership, code=f"{network.slug}10")
    program_services.creative_create(network=network, program=program, actor=None, kind="text",
                                                name="Spring sale", body="Save at {tracking_url}")
    convert(tenant, link, f"{network.slug}-order-1", "120.00")
    earn(tenant, "40.00")
    payout_services.payout_method_create(network=network, affiliate=tenant.affiliate, kind="paypal",
                                         paypal_email=tenant.affiliate.email)
    payout_batch_run(batch_id=payout_batch_start(network=network).pk, manual=True)
    earn(tenant, "15.00")  # approved, not yet paid out
    payout_services.tax_details_update(network=network, affiliate=tenant.affiliate, legal_name="Blog Ltd",
                                       country="DE", tax_id="DE123456789")
    endpoint = tracking_services.webhook_endpoint_create(network=network, advertiser=tenant.advertiser,
                                                         url="https://hooks.example.com/in",
                                                         events=["conversion.created"])
    tracking_services.affiliate_postback_set(network=network, affiliate=tenant.affiliate,
                                             template="https://track.example.net/pb?cid={click_id}&p={payout}")
    tracking_services.webhook_endpoint_send_test(network=network, endpoint=endpoint)
    network_services.announcement_create(network=network, title="Welcome", body="Hello", audience="affiliates",
                                         actor=None)
    from network.domains import tracking_domain_add

    tracking_domain_add(network=network, domain=f"go.{network.slug}.example", actor=None)
    gold = network_services.partner_group_create(network=network, name="Gold", actor=None)
    network_services.partner_group_assign(network=network, group=gold, affiliates=[tenant.affiliate], actor=None)
    scoped = {
        "advertisers/": "network.Advertiser", "affiliates/": "network.Affiliate",
        "announcements/": Announcement._meta.label, "api-keys/": "network.ApiKey",
        "commissions/": "commissions.Commission", "conversions/": "tracking.Conversion",
        "coupons/": "programs.CouponCode", "creatives/": "programs.Creative", "deliveries/": "tracking.Delivery",
        "ledger/transactions/": Transaction._meta.label, "links/": "programs.TrackingLink",
        "partner-groups/": "network.PartnerGroup",
        "partnerships/": "programs.Partnership", "payout-batches/": "payouts.PayoutBatch",
        "payout-methods/": "payouts.PayoutMethod", "payouts/": "payouts.Payout", "programs/": "programs.Program",
        "webhooks/": "tracking.WebhookEndpoint", "tracking-domains/": "network.TrackingDomain",
    }
    ids = {}
    for prefix, label in scoped.items():
        model = apps.get_model(label)
        manager = model.objects.for_network(network) if hasattr(model.objects, "for_network") else \
            model.objects.filter(membership__network=network)
        ids[f"/api/v1/{prefix}"] = list(manager.order_by("pk").values_list("pk", flat=True))
    return ids


def seed_world() -> World:
    from tests.conftest import make_tenant

    alpha, bravo = make_tenant("alpha"), make_tenant("bravo")
    own, other = _seed_tenant(alpha), _seed_tenant(bravo)
    ids = {prefix: own[prefix] + other[prefix] for prefix in own}
    keys = {role: alpha.__dict__[f"{role}_key"] for role in ("owner", "staff", "advertiser", "affiliate")}
    assert all(ids.values()), {prefix: found for prefix, found in ids.items() if not found}
    return World(keys=keys, ids=ids, tenants=[alpha, bravo])


# Written by every authenticated request (throttled "last used" stamp), not a record of anything.
_VOLATILE = {("network", "apikey"): {"last_used_at"}}
# Not records: the answers kept for an Idempotency-Key (a refused request's answer is kept too, as Stripe does, so
# a retry with the same key gets the same refusal).
_ANSWER_CACHES = {("network", "idempotencykey")}


def record_fingerprint() -> str:
    """A digest of every row of the project's own tables (not sessions or Celery beat bookkeeping)."""
    digest = hashlib.sha256()
    for app_label in ("network", "programs", "tracking", "commissions", "payouts"):
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.proxy or not model._meta.managed or (app_label, model._meta.model_name) in _ANSWER_CACHES:
                continue
            skip = _VOLATILE.get((app_label, model._meta.model_name), set())
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
            for row in model._base_manager.order_by("pk").values_list(*fields):
                digest.update(repr(row).encode())
            digest.update(model._meta.label.encode())
    return digest.hexdigest()




_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_STAMP_ONLY = re.compile(r'^\s*UPDATE\s+"?network_apikey"?\s+SET\s+"?last_used_at"?\s*=\s*%s\s+WHERE', re.IGNORECASE)


@contextlib.contextmanager
def watch_writes():
    """The statements that may have changed a recorded row (what `record_fingerprint` digests), collected while the
    block runs. Digesting every table costs ~50 queries, so the fuzz test digests only after a request that wrote:
    a refused request that never wrote cannot have changed a row."""
    from django.db import connection

    cache_tables = {apps.get_model(app_label, name)._meta.db_table for app_label, name in _ANSWER_CACHES}
    project = {model._meta.db_table for label in ("network", "programs", "tracking", "commissions", "payouts")
               for model in apps.get_app_config(label).get_models()}
    writes: list[str] = []

    def watch(execute, sql, params, many, context):
        match = _WRITE.match(sql)
        if match and match.group(2) in project - cache_tables and not _STAMP_ONLY.match(sql):
            writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        yield writes
