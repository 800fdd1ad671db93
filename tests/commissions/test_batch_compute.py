"""The batch computation (the postback's kicks) writes exactly what one-by-one computation writes: the same
commissions, ledger postings, webhook/postback deliveries and e-mails, for every kind of conversion."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import Account, Commission, LedgerEntry
from commissions.services import commissions_for_conversion, commissions_for_conversions
from tests.factories import make_affiliate, make_conversion, make_link, make_partnership, make_program
from tracking.models import Conversion, Delivery, WebhookEndpoint

from .helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db
D = Decimal


def _shop(tenant):
    """Programs, rules and conversions of every shape, identical in each network it is built in."""
    sales = make_program(tenant.advertiser, name="Sales", rules=[
        {"event": "sale", "kind": "percent", "payout": D("10")},
        {"event": "lead", "kind": "fixed", "payout": D("2.50")},
    ])
    margin = make_program(tenant.advertiser, name="Margin", hold_days=14, rules=[
        {"event": "sale", "kind": "percent", "payout": D("8"), "revenue": D("12")}])
    tiered = make_program(tenant.advertiser, name="Tiers", rules=[
        {"event": "sale", "kind": "percent", "payout": D("5"), "tiers": [{"min_conversions": 0, "payout": "7"}]}])
    renewals = make_program(tenant.advertiser, name="Renewals", rules=[
        {"event": "sale", "kind": "percent", "payout": D("20"), "recurring_months": 12}])
    unpaid = make_program(tenant.advertiser, name="No rules", rules=[])
    referred = make_affiliate(tenant.network, "Referred", f"referred@{tenant.network.slug}.test",
                              referred_by=tenant.affiliate)[0]
    two_tier = make_program(tenant.advertiser, name="Two tier", second_tier_percent=D("10"))
    tenant.affiliate.postback_url = "https://tracker.example/pb?st={status}&p={payout}"
    tenant.affiliate.save()
    WebhookEndpoint.objects.create(network=tenant.network, advertiser=tenant.advertiser, url="https://shop.example/h",
                                   events=["commission.created", "commission.rejected"], secret="s" * 32)
    link = {p.pk: make_link(make_partnership(p, tenant.affiliate)) for p in (sales, margin, tiered, renewals, unpaid)}
    referred_link = make_link(make_partnership(two_tier, referred))
    adv = tenant.advertiser
    made = [
        make_conversion(adv, order_id="plain", amount="99.99", link=link[sales.pk]),
        make_conversion(adv, order_id="lead", amount="0", event="lead", link=link[sales.pk]),
        make_conversion(adv, order_id="usd", amount="10.01", currency="USD", link=link[sales.pk]),
        make_conversion(adv, order_id="held", amount="50.00", link=link[sales.pk], status="held",
                        fraud_signals=["too_fast"]),
        make_conversion(adv, order_id="rejected", amount="50.00", link=link[sales.pk], status="rejected",
                        fraud_signals=["self_referral"]),
        make_conversion(adv, order_id="margin", amount="33.33", link=link[margin.pk]),
        make_conversion(adv, order_id="tiered", amount="40.00", link=link[tiered.pk]),
        make_conversion(adv, order_id="first", amount="30.00", link=link[renewals.pk], customer_id="c1"),
        make_conversion(adv, order_id="renewal", amount="30.00", link=link[renewals.pk], customer_id="c1",
                        attribution="customer"),
        make_conversion(adv, order_id="unpaid", amount="30.00", link=link[unpaid.pk]),
        make_conversion(adv, order_id="unattributed", amount="30.00"),
        make_conversion(adv, order_id="refunded", amount="60.00", link=link[sales.pk], refunded_amount=D("20.00")),
        make_conversion(adv, order_id="two-tier", amount="100.00", link=referred_link),
    ]
    # Renewal order: the renewal comes a month after the first order.
    Conversion.objects.filter(pk=made[8].pk).update(created_at=made[7].created_at + timedelta(days=30))
    return made


def _outcome(tenant) -> dict:
    network = tenant.network
    commissions = {
        (c.conversion.order_id, c.tier): (
            c.status, c.kind, c.currency, c.base_amount, c.amount, c.revenue, c.reversed_amount, c.reason,
            {k: v for k, v in c.rule_snapshot.items() if k != "rule_id"}, c.hold_until - c.conversion.created_at,
            c.rejected_at is not None, c.parent.conversion.order_id if c.parent_id else None,
            c.affiliate.email.split("@")[0],
        )
        for c in Commission.objects.filter(network=network).select_related("conversion", "parent__conversion",
                                                                            "affiliate")
    }
    balances = sorted(
        (a.kind, a.currency, a.affiliate.email.split("@")[0] if a.affiliate_id else "", a.balance)
        for a in Account.objects.filter(network=network).select_related("affiliate")
    )
    entries = sorted((e.transaction.kind, e.account.kind, e.currency, e.amount)
                     for e in LedgerEntry.objects.filter(network=network).select_related("transaction", "account"))
    deliveries = sorted((d.kind, d.event, d.url) for d in Delivery.objects.filter(network=network))
    return {"commissions": commissions, "balances": balances, "entries": entries, "deliveries": deliveries,
            "emails": _emailed(network)}


def _messages(network) -> list:
    return [m for m in mail.outbox if m.to[0].endswith(f"@{network.slug}.test")]


def _emailed(network) -> dict:
    """What each affiliate of the network was told, whether one e-mail each or a digest: (order id, amount) of every
    commission its e-mails name."""
    told: dict[str, list] = {}
    for message in _messages(network):
        named = told.setdefault(message.to[0].split("@")[0], [])
        single = re.search(r"^Amount: (\S+)$", message.body, re.M)
        if single:
            named.append((re.search(r"^Order: (.+)$", message.body, re.M)[1], single[1]))
        else:
            named += re.findall(r"^#\d+ [^,\n]+, order ([^,:\n]+)[^\n]*?: (\S+)(?: \(.*\))?$", message.body, re.M)
    return {recipient: sorted(named) for recipient, named in told.items()}


def test_the_batch_writes_what_one_by_one_writes(world, django_capture_on_commit_callbacks):
    batch, single = _shop(world.a), _shop(world.b)
    with django_capture_on_commit_callbacks(execute=True):
        written = commissions_for_conversions(conversion_ids=[c.pk for c in batch])
        for conversion in single:
            commissions_for_conversion(conversion_id=conversion.pk)
    got, expected = _outcome(world.a), _outcome(world.b)
    assert written == len(got["commissions"]) == 12  # 11 first-tier (not "unpaid", "unattributed"), 1 second-tier
    for part in ("commissions", "balances", "entries", "deliveries", "emails"):
        assert got[part] == expected[part], part
    assert sum(map(len, got["emails"].values())) == 12
    # One by one: an e-mail per commission; the batch: one per affiliate and transition (created, rejected).
    assert len(_messages(world.b.network)) == 12
    transitions = {(m.to[0].split("@")[0], "rejected" in m.subject.lower()) for m in _messages(world.b.network)}
    assert sorted(m.to[0].split("@")[0] for m in _messages(world.a.network)) == sorted(r for r, _ in transitions)
    assert ("two-tier", 2) in got["commissions"] and ("unpaid", 1) not in got["commissions"]
    assert got["commissions"][("refunded", 1)][6] == D("2.00")  # the refund already recorded was reversed
    assert_ledger_consistent()


def test_a_second_batch_writes_nothing_more(world, django_capture_on_commit_callbacks):
    conversions = _shop(world.a)
    ids = [c.pk for c in conversions]
    with django_capture_on_commit_callbacks(execute=True):
        first = commissions_for_conversions(conversion_ids=ids)
    before = _outcome(world.a)
    with django_capture_on_commit_callbacks(execute=True):
        assert commissions_for_conversions(conversion_ids=ids) == first
    assert _outcome(world.a) == before
    assert_ledger_consistent()


def test_the_batch_costs_a_fixed_number_of_statements(world):
    program = make_program(world.a.advertiser, name="Volume")
    link = make_link(make_partnership(program, world.a.affiliate))
    ids = [make_conversion(world.a.advertiser, order_id=f"v-{n}", amount="10.00", link=link).pk for n in range(60)]
    commissions_for_conversions(conversion_ids=ids[:1])  # the accounts exist from here on
    with CaptureQueriesContext(connection) as small:
        commissions_for_conversions(conversion_ids=ids[1:11])
    with CaptureQueriesContext(connection) as large:
        commissions_for_conversions(conversion_ids=ids[11:])
    assert Commission.objects.filter(program=program).count() == 60
    # 49 conversions cost what 10 do, give or take the chunks SQLite splits a large INSERT into. 32: the 29 of the
    # batch (one of them reads the conversions' networks first, so each network's rows are locked by a statement
    # that names it: one shard on Citus) and 3 for its days' sums (the network's lock, the new rows' sums per day,
    # one upsert).
    assert len(small.captured_queries) <= len(large.captured_queries) <= len(small.captured_queries) + 3 <= 32


def _statements(run) -> int:
    """Statements `run` sends, the chunks SQLite splits one large INSERT into counting once (PostgreSQL sends one)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    count, previous = 0, None
    for query in queries.captured_queries:
        head = query["sql"].split("(", 1)[0] if query["sql"].startswith("INSERT") else None
        count += head is None or head != previous
        previous = head
    return count


@pytest.mark.parametrize("referred", [False, True], ids=["plain", "second-tier"])
def test_a_batch_of_100_costs_the_statements_of_a_batch_of_one(world, referred):
    """One by one is a batch of one: the single path costs what a batch of one does, and 100 cost the same
    (give or take the chunks SQLite splits a large INSERT into), second-tier overrides included."""
    if referred:
        affiliate = make_affiliate(world.a.network, "Referred", "referred@a.test", referred_by=world.a.affiliate)[0]
        program = make_program(world.a.advertiser, name="Volume", second_tier_percent=D("10"))
    else:
        affiliate, program = world.a.affiliate, make_program(world.a.advertiser, name="Volume")
    link = make_link(make_partnership(program, affiliate))
    ids = [make_conversion(world.a.advertiser, order_id=f"v-{n}", amount="10.00", link=link).pk for n in range(103)]
    commissions_for_conversions(conversion_ids=ids[:1])  # the accounts exist from here on
    single = _statements(lambda: commissions_for_conversion(conversion_id=ids[1]))
    one = _statements(lambda: commissions_for_conversions(conversion_ids=ids[2:3]))
    hundred = _statements(lambda: commissions_for_conversions(conversion_ids=ids[3:]))
    per_conversion = 2 if referred else 1
    assert Commission.objects.filter(program=program).count() == 103 * per_conversion
    assert single == one == hundred


def test_a_batch_of_emails_reads_its_commissions_once(world):
    """The worker's e-mail task: one read for the batch whatever its size (each e-mail's link names the network,
    which cost a query per e-mail and halved the worker's throughput)."""
    from commissions.tasks import commission_emails_task

    program = make_program(world.a.advertiser, name="Mailing")
    link = make_link(make_partnership(program, world.a.affiliate))
    ids = [make_conversion(world.a.advertiser, order_id=f"m-{n}", amount="10.00", link=link).pk for n in range(30)]
    commissions_for_conversions(conversion_ids=ids)
    commission_ids = list(Commission.objects.filter(program=program).values_list("pk", flat=True))
    mail.outbox.clear()
    network = world.a.network.pk
    with CaptureQueriesContext(connection) as few:
        assert commission_emails_task([[pk, "commission.created", None] for pk in commission_ids[:2]], network) == 1
    with CaptureQueriesContext(connection) as many:
        assert commission_emails_task([[pk, "commission.created", None] for pk in commission_ids], network) == 1
    assert len(many.captured_queries) == len(few.captured_queries) == 1
    assert f"?network={world.a.network.slug}" in mail.outbox[1].body
    assert f'"commissions_commission"."network_id" IN ({network})' in many.captured_queries[0]["sql"]


def _mailing(tenant, orders: list[tuple[str, str, str]], program_name: str = "Mailing"):
    """Commissions of `tenant`'s affiliate (10 % of each (order id, amount, currency)), written as one batch."""
    program = make_program(tenant.advertiser, name=program_name)
    link = make_link(make_partnership(program, tenant.affiliate))
    ids = [make_conversion(tenant.advertiser, order_id=order, amount=amount, currency=currency, link=link).pk
           for order, amount, currency in orders]
    commissions_for_conversions(conversion_ids=ids)
    return list(Commission.objects.filter(program=program).order_by("pk"))


def test_a_batchs_commissions_reach_each_affiliate_as_one_digest(world, django_capture_on_commit_callbacks):
    """One e-mail per affiliate for the commissions of a batch: each commission with its amount and order, the total
    per currency, the link to the commissions page; the other network's affiliate gets its own."""
    program = make_program(world.a.advertiser, name="Digest")
    mine = make_link(make_partnership(program, world.a.affiliate))
    other = make_link(make_partnership(program, world.a.affiliate2))
    orders = [("d-1", "100.00", "EUR", mine), ("d-2", "50.00", "EUR", mine), ("d-3", "20.00", "USD", mine),
              ("d-4", "30.00", "EUR", other)]
    ids = [make_conversion(world.a.advertiser, order_id=order, amount=amount, currency=currency, link=link).pk
           for order, amount, currency, link in orders]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        commissions_for_conversions(conversion_ids=ids)
    by_order = {c.conversion.order_id: c for c in Commission.objects.filter(program=program)
                .select_related("conversion")}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.a.affiliate.email, world.a.affiliate2.email])
    [digest] = [m for m in mail.outbox if m.to == [world.a.affiliate.email]]
    assert digest.subject == "3 new commissions: €15.00 + $2.00"
    assert f"#{by_order['d-1'].pk} Digest, order d-1: €10.00\n" in digest.body
    assert f"#{by_order['d-2'].pk} Digest, order d-2: €5.00\n" in digest.body
    assert f"#{by_order['d-3'].pk} Digest, order d-3: $2.00\n" in digest.body
    assert "Total: €15.00\nTotal: $2.00\n" in digest.body
    assert f"/partner/commissions/?network={world.a.network.slug}" in digest.body
    # Alone in the batch: the single commission's own e-mail, as before.
    [single] = [m for m in mail.outbox if m.to == [world.a.affiliate2.email]]
    assert single.subject == "New commission: €3.00 (Digest)" and "Order: d-4" in single.body
    assert f"/partner/commissions/{by_order['d-4'].pk}/?network={world.a.network.slug}" in single.body


def test_a_digest_speaks_the_affiliates_language(world):
    from commissions.tasks import commission_emails_task

    user = world.a.affiliate.membership.user
    user.language = "pl"
    user.save(update_fields=["language"])
    made = _mailing(world.a, [(f"pl-{n}", "10.00", "EUR") for n in range(5)])
    mail.outbox.clear()
    assert commission_emails_task([[c.pk, "commission.created", None] for c in made], world.a.network.pk) == 1
    [digest] = mail.outbox
    assert digest.subject == "5 nowych prowizji: 5,00\xa0€"
    assert digest.body.startswith(f"Dzień dobry, {world.a.affiliate.name}!")
    assert f"#{made[0].pk} Mailing, zamówienie pl-0: 1,00\xa0€\n" in digest.body
    assert "Razem: 5,00\xa0€" in digest.body
    mail.outbox.clear()
    assert commission_emails_task([[c.pk, "commission.created", None] for c in made[:2]], world.a.network.pk) == 1
    assert mail.outbox[0].subject == "2 nowe prowizje: 2,00\xa0€"


def test_the_email_task_reads_only_the_network_it_names(world):
    """Another network's id finds nothing to send; a message queued before the task named its network (the ids
    alone) is still sent."""
    from commissions.tasks import commission_email_task, commission_emails_task

    made = _mailing(world.a, [("n-1", "10.00", "EUR"), ("n-2", "20.00", "EUR")])
    items = [[c.pk, "commission.created", None] for c in made]
    mail.outbox.clear()
    assert commission_emails_task(items, world.b.network.pk) == 0
    assert mail.outbox == []
    assert commission_emails_task(items) == 1
    assert commission_email_task(made[0].pk, "commission.created") == 1
    assert [m.subject for m in mail.outbox] == ["2 new commissions: €3.00", "New commission: €1.00 (Mailing)"]
