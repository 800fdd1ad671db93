"""Shared set-up for the commission tests: a program with rules, an affiliate's link, conversions."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F

from commissions.models import Account, LedgerEntry, Transaction
from commissions.services import commissions_for_conversion
from tests.factories import make_conversion, make_link, make_partnership, make_program


def program_with_link(tenant, *, rules=None, affiliate=None, currency=None, **fields):
    program = make_program(tenant.advertiser, rules=rules, currency=currency, **fields)
    link = make_link(make_partnership(program, affiliate or tenant.affiliate), sub1="fb")
    return program, link


def convert(tenant, link, order_id, amount, **fields):
    """A conversion attributed to `link` and its commissions (as the on-commit task computes them)."""
    currency = fields.pop("currency", None) or link.program.currency
    created_at = fields.pop("created_at", None)
    conversion = make_conversion(tenant.advertiser, order_id=order_id, amount=Decimal(amount), currency=currency,
                                 link=link, **fields)
    if created_at is not None:
        type(conversion).objects.filter(pk=conversion.pk).update(created_at=created_at)
        conversion.refresh_from_db()
    return conversion, commissions_for_conversion(conversion_id=conversion.pk)


def owed(account_kind, party, currency="EUR") -> Decimal:
    """What a party's account holds, as a positive number for credit balances (liabilities)."""
    field = "advertiser" if account_kind == Account.Kind.ADVERTISER_RECEIVABLE else "affiliate"
    account = Account.objects.filter(kind=account_kind, currency=currency, **{field: party}).first()
    if account is None:
        return Decimal(0)
    return account.balance if account_kind == Account.Kind.ADVERTISER_RECEIVABLE else -account.balance


def assert_ledger_consistent():
    """Every transaction sums to zero per currency; every cached balance equals the sum of its entries."""
    per_txn, per_account = defaultdict(Decimal), defaultdict(Decimal)
    for txn_id, account_id, currency, amount in LedgerEntry.objects.values_list(
            "transaction_id", "account_id", "currency", "amount"):
        per_txn[txn_id, currency] += amount
        per_account[account_id] += amount
    assert all(total == 0 for total in per_txn.values()), per_txn
    assert Transaction.objects.filter(entries__isnull=True).count() == 0
    for account_id, balance in Account.objects.values_list("pk", "balance"):
        assert balance == per_account[account_id], (account_id, balance, per_account[account_id])
    assert not LedgerEntry.objects.exclude(currency=F("account__currency")).exists()
