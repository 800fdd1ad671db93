"""Tracking's services queue their tasks after commit through `tracking.signals` (the tasks modules import the
services, not the reverse): a conversion waiting for its click queues its late attribution, deliveries their
sends, and a rolled-back write queues nothing."""

from unittest import mock

import pytest
from django.db import transaction

from tracking import outbound
from tracking.ids import new_click_id
from tracking.models import Conversion, Delivery, WebhookEndpoint
from tracking.tasks_outbound import conversion_attribute_late, delivery_send

from .conversions_support import make_shop, post_conversion

pytestmark = pytest.mark.django_db


def test_a_conversion_waiting_for_its_click_queues_its_late_attribution_after_commit(
        world, django_capture_on_commit_callbacks):
    make_shop(world.a)
    with mock.patch.object(conversion_attribute_late, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            body = post_conversion(world.a.client("advertiser"), click_id=new_click_id()).json()
        assert body["attribution_pending"] is True
        delay.assert_not_called()  # not before the commit
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(body["id"], world.a.network.pk)  # with its network: read on it
    assert Conversion.objects.get(pk=body["id"]).attribution_pending


def test_deliveries_queue_one_send_each_after_commit_and_none_when_rolled_back(
        world, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(network=world.a.network, advertiser=world.a.advertiser,
                                   url="https://hooks.example/", events=["*"])
    WebhookEndpoint.objects.create(network=world.a.network, advertiser=None, url="https://ops.example/",
                                   events=["*"])
    with mock.patch.object(delivery_send, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            outbound.event_emit(network_id=world.a.network.pk, event="conversion.created", data={"id": 1},
                                advertiser_id=world.a.advertiser.pk)
        ids = sorted(Delivery.objects.filter(network=world.a.network).values_list("pk", flat=True))
        assert len(ids) == 2
        assert sorted(call.args[0] for call in delay.call_args_list) == ids

        delay.reset_mock()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            outbound.event_emit(network_id=world.a.network.pk, event="conversion.created", data={"id": 2},
                                advertiser_id=world.a.advertiser.pk)
            transaction.set_rollback(True)
        delay.assert_not_called()
    assert Delivery.objects.filter(network=world.a.network).count() == 2
