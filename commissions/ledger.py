"""The double-entry ledger: accounts, the one function that posts entries, balances, payout postings.

Sign convention: an entry's amount is positive for a debit and negative for a credit; every
transaction sums to zero per currency. Liabilities (what affiliates are owed) carry credit balances,
so their "amount owed" is the negated balance.

Payouts (the payouts app) move money with three postings, each one `transaction_post`:
batched   DR affiliate_approved / CR payouts_clearing   (`ledger_payout_batched`)
confirmed DR payouts_clearing   / CR affiliate_paid     (`ledger_payout_settled`)
failed    DR payouts_clearing   / CR affiliate_approved (`ledger_payout_failed`)
A refund after payout debits affiliate_approved below zero; the next batch nets it out.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from core.bulk import instance_new, instances_create
from core.money import quantize
from network.models import Advertiser, Affiliate, Network

from .models import Account, LedgerEntry, Transaction

Kind = Account.Kind
ZERO = Decimal(0)


@dataclass(frozen=True)
class Line:
    account: Account
    amount: Decimal  # debit > 0, credit < 0


def account_for(*, network: Network | int, currency: str, kind: str, advertiser: Advertiser | None = None,
                affiliate: Affiliate | None = None, cache: dict | None = None) -> Account:
    """The account (created on first use) for a party and currency. `cache` (a dict the caller keeps for one
    batch) saves the look-up of an account already found."""
    network_id = network if isinstance(network, int) else network.pk
    if kind == Kind.ADVERTISER_RECEIVABLE:
        if advertiser is None:
            raise ValueError("An advertiser account needs the advertiser.")
        party_key, fields = f"adv:{advertiser.pk}", {"advertiser": advertiser}
    elif kind == Kind.NETWORK_REVENUE:
        party_key, fields = "", {}
    else:
        if affiliate is None:
            raise ValueError("An affiliate account needs the affiliate.")
        party_key, fields = f"aff:{affiliate.pk}", {"affiliate": affiliate}
    lookup = {"network_id": network_id, "currency": currency, "kind": kind, "party_key": party_key}
    cache_key = (network_id, currency, kind, party_key)
    if cache is not None and cache_key in cache:
        return cache[cache_key]
    account = Account.objects.filter(**lookup).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(**lookup, **fields)
        except IntegrityError:  # created concurrently
            account = Account.objects.get(**lookup)
    if cache is not None:
        cache[cache_key] = account
    return account


@dataclass(frozen=True)
class Posting:
    """One business event's transaction, for `transactions_post`."""

    kind: str
    lines: list[Line]
    ref: object = None
    key: str | None = None
    memo: str = ""


def transaction_post(*, network: Network | int, kind: str, lines: list[Line], ref=None, key: str | None = None,
                     memo: str = "") -> Transaction | None:
    """Post one balanced transaction. The only writer of ledger entries and cached balances (with
    `transactions_post`, its batch form, which it calls).

    Zero lines are dropped; a transaction with nothing left posts nothing (returns None). With `key`, a
    second post of the same business event returns the first transaction unchanged.
    """
    return transactions_post(network=network, postings=[Posting(kind, lines, ref, key, memo)])[0]


@transaction.atomic
def transactions_post(*, network: Network | int, postings: list[Posting],
                      balances: dict[int, Decimal] | None = None) -> list[Transaction | None]:
    """Post many balanced transactions of one network at once (one per business event, each checked as
    `transaction_post` checks it): entries in one INSERT, each account's balance updated once. With `balances`
    (account id -> amount), the balances are not updated: the amounts are added there for the caller to apply
    with `balances_add` at the end of its transaction (the balance rows stay locked from their update to the
    commit, and every writer of the network waits for its revenue account's)."""
    network_id = network if isinstance(network, int) else network.pk
    kept = []
    for posting in postings:
        lines = [line for line in posting.lines if line.amount != 0]
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in lines:
            if line.account.network_id != network_id:
                raise ValidationError(_("A ledger line names another network's account."))
            if not isinstance(line.amount, Decimal):
                raise TypeError("Ledger amounts are Decimal.")
            totals[line.account.currency] += line.amount
        unbalanced = {cur: total for cur, total in totals.items() if total != 0}
        if unbalanced:
            # Messages of the ledger's own checks: a page that shows a refused step shows them in its language.
            totals_text = ", ".join(f"{cur} {total}" for cur, total in sorted(unbalanced.items()))
            raise ValidationError(_("Unbalanced ledger transaction “%(kind)s”: %(totals)s.") % {
                "kind": posting.kind, "totals": totals_text})
        kept.append(lines)
    keys = [posting.key for posting in postings if posting.key is not None]
    if len(set(keys)) != len(keys):
        raise ValidationError(_("Two postings of one batch name the same business event."))
    existing = {txn.key: txn for txn in Transaction.objects.filter(network_id=network_id, key__in=keys)} if keys else {}
    results: list[Transaction | None] = []
    new: list[tuple[Transaction, list[Line]]] = []
    for posting, lines in zip(postings, kept, strict=True):
        if posting.key in existing:
            results.append(existing[posting.key])
        elif not lines:
            results.append(None)
        else:
            ref = posting.ref
            txn = instance_new(
                Transaction, network_id=network_id, kind=posting.kind, key=posting.key, memo=posting.memo[:255],
                ref_type=ref._meta.label_lower if ref is not None else "",
                ref_id=str(ref.pk) if ref is not None else "",
            )
            results.append(txn)
            new.append((txn, lines))
    if not new:
        return results
    instances_create(Transaction, [txn for txn, _lines in new])
    _entries_insert([(network_id, txn.pk, line.account.pk, line.account.currency, line.amount)
                     for txn, lines in new for line in lines])
    per_account: dict[int, Decimal] = {} if balances is None else balances
    for _txn, lines in new:
        for line in lines:
            per_account[line.account.pk] = per_account.get(line.account.pk, ZERO) + line.amount
    if balances is None:
        balances_add(network_id, per_account)
    return results


def balances_add(network_id: int, per_account: dict[int, Decimal]) -> None:
    """Add these amounts to the network's accounts' balances (entries already written: `transactions_post`), in
    the caller's transaction (the entries' one)."""
    # Lock in a fixed order (no deadlocks between postings) and add in Python: SQLite would add decimals as floats.
    changes = {pk: amount for pk, amount in per_account.items() if amount != 0}
    if not changes:
        return
    accounts = Account.objects.filter(network_id=network_id)
    for account in accounts.select_for_update().filter(pk__in=sorted(changes)).order_by("pk"):
        accounts.filter(pk=account.pk).update(balance=account.balance + changes[account.pk])


def _entries_insert(rows: list[tuple]) -> None:
    """Insert (network, transaction, account, currency, amount) entries. PostgreSQL: one multi-row INSERT of plain
    values (the ORM's per-field preparation cost more than the rest of a batch's postings); elsewhere the ORM."""
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create([
            LedgerEntry(network_id=network_id, transaction_id=txn_id, account_id=account_id, currency=currency,
                        amount=amount)
            for network_id, txn_id, account_id, currency, amount in rows
        ])
        return
    from psycopg2.extras import execute_values

    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"INSERT INTO {LedgerEntry._meta.db_table} "  # noqa: S608 (the model's own table name)
            "(network_id, transaction_id, account_id, currency, amount, created_at) VALUES %s",
            rows, template="(%s, %s, %s, %s, %s, now())", page_size=1000,
        )


def entries_sum(account: Account) -> Decimal:
    """The sum of an account's entries, added in Python (exact on every database)."""
    return sum(LedgerEntry.objects.filter(network_id=account.network_id, account=account)
               .values_list("amount", flat=True), ZERO)


def affiliate_balances(*, network: Network, affiliate: Affiliate) -> list[dict]:
    """Per currency: pending, approved, in payment, paid (what the affiliate is owed / was paid), quantized."""
    rows: dict[str, dict] = {}
    kinds = {Kind.AFFILIATE_PENDING: "pending", Kind.AFFILIATE_APPROVED: "approved",
             Kind.PAYOUTS_CLEARING: "in_payment", Kind.AFFILIATE_PAID: "paid"}
    for account in Account.objects.for_network(network).filter(affiliate=affiliate, kind__in=list(kinds)):
        row = rows.setdefault(account.currency, {"currency": account.currency} | dict.fromkeys(kinds.values(), ZERO))
        row[kinds[account.kind]] = -account.balance  # credit balances: what is owed / was paid
    return [
        {k: (v if k == "currency" else quantize(v, cur)) for k, v in row.items()}
        for cur, row in sorted(rows.items())
    ]


def _payout_lines(network, affiliate, currency, amount, debit_kind, credit_kind) -> list[Line]:
    amount = Decimal(amount)
    if amount != quantize(amount, currency):
        raise ValidationError(_("A payout amount must be whole minor units of %(currency)s.") % {"currency": currency})
    debit = account_for(network=network, currency=currency, kind=debit_kind, affiliate=affiliate)
    credit = account_for(network=network, currency=currency, kind=credit_kind, affiliate=affiliate)
    return [Line(debit, amount), Line(credit, -amount)]


def ledger_payout_batched(*, network, affiliate, currency, amount, ref=None, key=None) -> Transaction | None:
    """A payout batch took `amount` of the affiliate's approved balance: approved -> clearing."""
    lines = _payout_lines(network, affiliate, currency, amount, Kind.AFFILIATE_APPROVED, Kind.PAYOUTS_CLEARING)
    return transaction_post(network=network, kind="payout.batched", lines=lines, ref=ref, key=key)


def ledger_payout_settled(*, network, affiliate, currency, amount, ref=None, key=None) -> Transaction | None:
    """The provider confirmed the transfer: clearing -> paid."""
    lines = _payout_lines(network, affiliate, currency, amount, Kind.PAYOUTS_CLEARING, Kind.AFFILIATE_PAID)
    return transaction_post(network=network, kind="payout.paid", lines=lines, ref=ref, key=key)


def ledger_payout_failed(*, network, affiliate, currency, amount, ref=None, key=None) -> Transaction | None:
    """The transfer failed: clearing -> approved, to be paid again by a later batch."""
    lines = _payout_lines(network, affiliate, currency, amount, Kind.PAYOUTS_CLEARING, Kind.AFFILIATE_APPROVED)
    return transaction_post(network=network, kind="payout.failed", lines=lines, ref=ref, key=key)


def affiliate_approved_due(*, network: Network, affiliate: Affiliate, currency: str) -> Decimal:
    """What a payout batch may take now: the approved balance (negative after refunds of paid commissions)."""
    account = Account.objects.for_network(network).filter(
        kind=Kind.AFFILIATE_APPROVED, affiliate=affiliate, currency=currency).first()
    return -account.balance if account is not None else ZERO
