"""The Integration page's "Send a test conversion": one marked sale through the same recording service as the
postback, so the advertiser sees the whole path answer (the conversion row, its webhooks) without a line of code.

Kept apart from real money by construction: no click id, coupon or customer id, so nothing attributes it and no
affiliate earns a commission; it is flagged `is_test`, so no total, report or chart counts it and every list
shows a "Test" badge; its amount is zero and its order id starts with TEST_ORDER_PREFIX.
"""

from decimal import Decimal

from django.utils import timezone

from network.models import Advertiser, Network, User
from network.services import audit_log_record

from .ids import new_click_id
from .services import Recorded, conversion_record

TEST_ORDER_PREFIX = "TEST-"


def conversion_test_send(*, network: Network, advertiser: Advertiser, actor: User | None) -> Recorded:
    # A fresh order id each time (a click id's time-ordered form): every press is one new test conversion.
    order_id = f"{TEST_ORDER_PREFIX}{timezone.now():%Y%m%d}-{new_click_id()[-8:]}"
    recorded = conversion_record(network=network, advertiser=advertiser, order_id=order_id, amount=Decimal("0"),
                                 currency=network.default_currency, is_test=True)
    audit_log_record(network=network, actor=actor, action="conversion.test_sent", target=recorded.conversion)
    return recorded
