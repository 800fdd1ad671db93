"""With a real broker the postback's commission kicks are batched per process; the catch-up task computes what a
lost kick left behind."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from commissions import receivers
from commissions.models import Commission
from commissions.tasks import commissions_catch_up_task, commissions_compute_batch_task
from config.celery import app
from tests.factories import make_conversion
from tracking.models import Conversion
from tracking.signals import conversion_recorded

from .helpers import assert_ledger_consistent, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def broker():
    """Tasks go to a broker (not run in-process); the batch task's queuing is recorded, not sent."""
    app.conf.task_always_eager = False
    try:
        with mock.patch.object(commissions_compute_batch_task, "delay") as delay:
            yield delay
    finally:
        app.conf.task_always_eager = True  # as the suite's autouse fixture sets it


def _conversions(world, n, **fields):
    _, link = program_with_link(world.a)
    return [make_conversion(world.a.advertiser, order_id=f"o-{i}", amount=D("10.00"), link=link, **fields)
            for i in range(n)]


def test_kicks_are_sent_as_one_batch_task_and_nothing_is_computed_in_the_request(world, broker):
    conversions = _conversions(world, 3)
    for conversion in conversions:
        conversion_recorded.send(sender=Conversion, conversion_id=conversion.pk, network_id=conversion.network_id)
    assert receivers.kicks.flush()
    # Each conversion with its network, so the task reads them on their network.
    broker.assert_called_once_with([c.pk for c in conversions], [world.a.network.pk] * 3)
    assert Commission.objects.count() == 0


def test_a_full_batch_is_sent_by_the_request_that_fills_it(world, broker, monkeypatch):
    monkeypatch.setattr(receivers.ComputeKicks, "MAX_BATCH", 2)
    monkeypatch.setattr(receivers.ComputeKicks, "MAX_AGE", 60.0)  # the timer thread stays out of it
    first, second, third = _conversions(world, 3)
    for conversion in (first, second):
        conversion_recorded.send(sender=Conversion, conversion_id=conversion.pk, network_id=conversion.network_id)
    broker.assert_called_once_with([first.pk, second.pk], [world.a.network.pk] * 2)
    # A kick sent without its network (a sender from before networks were passed) still goes, read by id.
    conversion_recorded.send(sender=Conversion, conversion_id=third.pk)
    assert receivers.kicks.flush()
    assert broker.call_args_list[-1] == mock.call([third.pk], [None])


def test_a_broker_outage_loses_no_conversion(world, broker):
    from kombu.exceptions import OperationalError

    broker.side_effect = OperationalError("broker down")
    [conversion] = _conversions(world, 1)
    conversion_recorded.send(sender=Conversion, conversion_id=conversion.pk)
    assert receivers.kicks.flush()  # logged, not raised
    assert Conversion.objects.filter(pk=conversion.pk).exists()


def test_batch_task_writes_each_commission_once_even_when_retried(world):
    conversions = _conversions(world, 3)
    ids = [c.pk for c in conversions]
    assert commissions_compute_batch_task(ids) == 3
    assert commissions_compute_batch_task(ids) == 3  # a retry returns the rows already written
    assert sorted(Commission.objects.values_list("conversion_id", flat=True)) == ids
    assert_ledger_consistent()


def test_catch_up_computes_settled_conversions_left_without_commissions(world):
    old, fresh = _conversions(world, 2)
    Conversion.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert commissions_catch_up_task() == 1
    assert list(Commission.objects.values_list("conversion_id", flat=True)) == [old.pk]
    assert commissions_catch_up_task() == 0  # nothing left; the fresh one may still have its kick in flight
    assert_ledger_consistent()


def test_catch_up_is_scheduled_by_beat():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["commissions-catch-up"]
    assert entry["task"] == "commissions.tasks.commissions_catch_up_task"
    assert entry["task"] in app.tasks


def test_a_batch_named_for_its_network_computes_only_that_networks_conversions(world):
    """An import's chunk names its network: the batch locks and computes that network's conversions only (one
    shard on Citus), and a chunk's own network computes them all."""
    conversions = _conversions(world, 3)
    ids = [c.pk for c in conversions]
    assert commissions_compute_batch_task(ids, [world.b.network.pk] * 3) == 0
    assert not Commission.objects.filter(conversion_id__in=ids).exists()
    assert commissions_compute_batch_task(ids, [world.a.network.pk] * 3) == 3
    assert sorted(Commission.objects.for_network(world.a.network).values_list("conversion_id", flat=True)) == ids
    assert_ledger_consistent()


def test_an_imports_chunk_queues_its_batch_with_its_network(world, broker):
    from tracking.signals import conversions_recorded

    ids = [c.pk for c in _conversions(world, 2)]
    conversions_recorded.send(sender=Conversion, conversion_ids=ids, network_id=world.a.network.pk)
    broker.assert_called_once_with(ids, [world.a.network.pk] * len(ids))
