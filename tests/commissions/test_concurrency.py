"""PostgreSQL: concurrent computations and decisions never double a commission or a posting."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from commissions import services
from commissions.models import Commission, LedgerEntry
from tests.factories import make_conversion

from .helpers import assert_ledger_consistent, program_with_link

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(target, count=4):
    barrier, errors = threading.Barrier(count), []

    def run():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_computations_write_one_commission(world):
    _, link = program_with_link(world.a)
    conversion = make_conversion(world.a.advertiser, order_id="race-1", amount=Decimal("100"), link=link)
    errors = _in_threads(lambda: services.commissions_for_conversion(conversion_id=conversion.pk))
    assert errors == []
    assert Commission.objects.filter(conversion=conversion).count() == 1
    assert LedgerEntry.objects.count() == 2
    assert_ledger_consistent()


def test_concurrent_approvals_post_once(world):
    _, link = program_with_link(world.a)
    conversion = make_conversion(world.a.advertiser, order_id="race-2", amount=Decimal("100"), link=link)
    [commission] = services.commissions_for_conversion(conversion_id=conversion.pk)
    errors = _in_threads(lambda: services.commission_approve(network=world.a.network, commission=commission.pk))
    assert len(errors) == 3 and all(isinstance(e, services.TransitionError) for e in errors)
    assert LedgerEntry.objects.filter(transaction__kind="commission.approved").count() == 2
    assert_ledger_consistent()
