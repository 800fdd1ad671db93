"""core.bulk: the batch paths' INSERTs and instances write and hold what bulk_create and keyword construction do."""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import Commission, Transaction
from core.bulk import instance_new, instances_create, rows_insert
from tests.factories import make_program


def _commission(world, program, **fields):
    return Commission(network_id=world.a.network.pk, status="pending", kind="adjustment", program=program,
                      advertiser=world.a.advertiser, affiliate=world.a.affiliate, currency="EUR",
                      amount=Decimal("1.25"), revenue=Decimal("1.50"), rule_snapshot={"rate": "10", "note": "ä'%s"},
                      **fields)


def test_instances_create_writes_what_bulk_create_writes(world):
    program = make_program(world.a.advertiser, name="Bulk")
    ours = [_commission(world, program, reason="ours"), _commission(world, program, reason="it's 100%")]
    theirs = Commission.objects.bulk_create([_commission(world, program, reason="ours"),
                                             _commission(world, program, reason="it's 100%")])
    instances_create(Commission, ours)
    assert all(c.pk is not None and not c._state.adding for c in ours)
    skip = {"id", "created_at", "updated_at"}
    names = [f.attname for f in Commission._meta.concrete_fields if f.attname not in skip]
    for mine, other in zip(ours, theirs, strict=True):
        read, expected = (Commission.objects.filter(network_id=world.a.network.pk, pk=pk).values(*names).get()
                          for pk in (mine.pk, other.pk))
        assert read == expected
        assert Commission.objects.filter(network_id=world.a.network.pk, pk=mine.pk).values_list(
            "created_at", flat=True).get() == mine.created_at


def test_a_key_to_an_instance_saved_earlier_in_the_batch_is_taken_from_it(world):
    program = make_program(world.a.advertiser, name="Bulk")
    parent = _commission(world, program)
    child = _commission(world, program, parent=parent)
    instances_create(Commission, [parent])
    instances_create(Commission, [child])
    assert Commission.objects.filter(network_id=world.a.network.pk, pk=child.pk).values_list(
        "parent_id", flat=True).get() == parent.pk


def test_rows_insert_returns_only_the_rows_written(world):
    network_id = world.a.network.pk
    instances_create(Transaction, [Transaction(network_id=network_id, kind="test", key="k-1")])
    again = [Transaction(network_id=network_id, kind="test", key=key, created_at=world.a.network.created_at)
             for key in ("k-1", "k-2")]
    with CaptureQueriesContext(connection) as statements:
        written = rows_insert(Transaction, again, suffix="ON CONFLICT (network_id, key) DO NOTHING",
                              returning="key")
    assert written == [("k-2",)]
    assert len(statements.captured_queries) == 1
    assert Transaction.objects.filter(network_id=network_id, kind="test").count() == 2


def test_instance_new_holds_what_keyword_construction_holds(world):
    program = make_program(world.a.advertiser, name="Bulk")
    related = {"program": program, "advertiser": world.a.advertiser, "affiliate": world.a.affiliate}
    values = {"network_id": world.a.network.pk, "status": "pending", "kind": "sale", "currency": "EUR",
              "amount": Decimal("2.00"), "revenue": Decimal("2.50")}
    fast, usual = instance_new(Commission, related, **values), Commission(**related, **values)
    assert [getattr(fast, f.attname) for f in Commission._meta.concrete_fields] == [
        getattr(usual, f.attname) for f in Commission._meta.concrete_fields]
    assert fast.rule_snapshot is not instance_new(Commission, related, **values).rule_snapshot  # a dict each
    with CaptureQueriesContext(connection) as statements:
        assert fast.program is program and fast.affiliate is world.a.affiliate
    assert not statements.captured_queries
