"""The ledger: one posting service, balanced transactions, immutable entries, balances equal to sums, admin."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from commissions import ledger
from commissions.ledger import Line
from commissions.models import Account, ImmutableEntryError, LedgerEntry, Transaction

from .helpers import assert_ledger_consistent, convert, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
K = Account.Kind


def _accounts(tenant, currency="EUR"):
    receivable = ledger.account_for(network=tenant.network, currency=currency, kind=K.ADVERTISER_RECEIVABLE,
                                    advertiser=tenant.advertiser)
    pending = ledger.account_for(network=tenant.network, currency=currency, kind=K.AFFILIATE_PENDING,
                                 affiliate=tenant.affiliate)
    return receivable, pending


def test_an_unbalanced_transaction_writes_nothing(world):
    receivable, pending = _accounts(world.a)
    with pytest.raises(ValidationError, match="Unbalanced"):
        ledger.transaction_post(network=world.a.network, kind="test", lines=[
            Line(receivable, D("10.00")), Line(pending, D("-9.99"))])
    assert not Transaction.objects.exists() and not LedgerEntry.objects.exists()
    assert Account.objects.get(pk=receivable.pk).balance == 0


def test_balance_is_per_currency(world):
    eur, _ = _accounts(world.a)
    _, jpy = _accounts(world.a, "JPY")
    with pytest.raises(ValidationError):  # 10 EUR against 10 JPY does not balance
        ledger.transaction_post(network=world.a.network, kind="test", lines=[Line(eur, D("10")), Line(jpy, D("-10"))])


def test_lines_of_another_network_are_refused(world):
    receivable, _ = _accounts(world.a)
    _, foreign = _accounts(world.b)
    with pytest.raises(ValidationError, match="another network"):
        ledger.transaction_post(network=world.a.network, kind="test", lines=[
            Line(receivable, D("1")), Line(foreign, D("-1"))])


def test_floats_are_refused(world):
    receivable, pending = _accounts(world.a)
    with pytest.raises(TypeError):
        ledger.transaction_post(network=world.a.network, kind="test", lines=[
            Line(receivable, 0.1), Line(pending, -0.1)])


def test_a_keyed_posting_happens_once(world):
    receivable, pending = _accounts(world.a)
    lines = [Line(receivable, D("5")), Line(pending, D("-5"))]
    first = ledger.transaction_post(network=world.a.network, kind="test", lines=lines, key="event-1")
    again = ledger.transaction_post(network=world.a.network, kind="test", lines=lines, key="event-1")
    assert first.pk == again.pk and LedgerEntry.objects.count() == 2
    assert ledger.entries_sum(receivable) == D("5") == Account.objects.get(pk=receivable.pk).balance


def test_entries_cannot_be_changed_or_deleted(world):
    _, link = program_with_link(world.a)
    convert(world.a, link, "o-1", "10")
    entry = LedgerEntry.objects.first()
    entry.amount = D("999")
    with pytest.raises(ImmutableEntryError):
        entry.save()
    with pytest.raises(ImmutableEntryError):
        entry.delete()
    with pytest.raises(ImmutableEntryError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("0"))
    with pytest.raises(ImmutableEntryError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount != D("999")
    assert_ledger_consistent()


def test_payout_amounts_must_be_whole_minor_units(world):
    with pytest.raises(ValidationError, match="minor units"):
        ledger.ledger_payout_batched(network=world.a.network, affiliate=world.a.affiliate, currency="EUR",
                                     amount=D("1.005"))
    with pytest.raises(ValidationError, match="minor units"):
        ledger.ledger_payout_batched(network=world.a.network, affiliate=world.a.affiliate, currency="JPY",
                                     amount=D("1.5"))


def test_each_party_has_one_account_per_currency_and_kind(world):
    a1, _ = _accounts(world.a)
    a2, _ = _accounts(world.a)
    assert a1.pk == a2.pk and a1.party_key == f"adv:{world.a.advertiser.pk}"
    assert ledger.account_for(network=world.a.network, currency="EUR", kind=K.NETWORK_REVENUE).party_key == ""
    with pytest.raises(ValueError):
        ledger.account_for(network=world.a.network, currency="EUR", kind=K.AFFILIATE_APPROVED)


def test_admin_shows_the_ledger_read_only(world, client):
    from network.models import User

    _, link = program_with_link(world.a)
    convert(world.a, link, "o-1", "10")
    admin = User.objects.create_superuser("root", "root@example.test", "pw-long-enough-123")
    client.force_login(admin)
    txn = Transaction.objects.first()
    for url in ("/admin/commissions/transaction/", f"/admin/commissions/transaction/{txn.pk}/change/",
                "/admin/commissions/account/", "/admin/commissions/ledgerentry/", "/admin/commissions/commission/"):
        assert client.get(url, secure=True).status_code == 200, url
    assert client.get(f"/admin/commissions/transaction/{txn.pk}/delete/", secure=True).status_code == 403
    assert client.get("/admin/commissions/ledgerentry/add/", secure=True).status_code == 403
    response = client.post(f"/admin/commissions/transaction/{txn.pk}/change/", {"memo": "edited"}, secure=True)
    assert response.status_code == 403 and Transaction.objects.get(pk=txn.pk).memo == ""
