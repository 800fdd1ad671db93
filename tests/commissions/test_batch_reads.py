"""The commission batch's reads by id (its days' sums, its e-mails) read the batch's rows, not its network's: each
names its network (one shard on Citus) and finds its commissions by the span of their ids and each conversion by
its key (network_id, id). Joined along the keys, the days' sums hashed the network's conversions with fresh
statistics, and walked them once per commission without (tables analysed while empty)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions import selectors
from commissions.daily import commissions_source
from commissions.models import Commission
from commissions.services import commissions_for_conversions
from tests.factories import make_conversion
from tracking.models import Conversion

from .helpers import program_with_link

pytestmark = pytest.mark.django_db
ROWS = 2000


def _rows_read(sql: str) -> int:
    """Rows the plan's nodes produced or filtered away, over all their loops (EXPLAIN ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        [[plan]] = cursor.fetchone()

    def walk(node) -> int:
        here = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
        return here + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan["Plan"])


def copy_of(conversion: Conversion) -> Conversion:
    return Conversion(**{f.attname: getattr(conversion, f.attname) for f in Conversion._meta.concrete_fields})


def _last_statement(read) -> str:
    with CaptureQueriesContext(connection) as queries:
        read()
    return queries.captured_queries[-1]["sql"]


@pytest.fixture
def network_of_commissions(world):
    """ROWS commissions of network a, written in batches, with the tables' statistics."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    _, link = program_with_link(world.a)
    first = make_conversion(world.a.advertiser, order_id="r-0", amount=Decimal("10.00"), link=link)
    copies = []
    for n in range(1, ROWS):
        copy = Conversion.objects.get(pk=first.pk) if n == 1 else copy_of(copies[-1])
        copy.pk, copy.order_id = None, f"r-{n}"
        copies.append(copy)
    ids = [first.pk, *(c.pk for c in Conversion.objects.bulk_create(copies))]
    for start in range(0, ROWS, 500):
        commissions_for_conversions(conversion_ids=ids[start:start + 500], network_id=world.a.network.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commissions_commission, tracking_conversion")
    return list(Commission.objects.for_network(world.a.network).order_by("pk").values_list("pk", flat=True))


def test_a_batchs_reads_read_its_own_rows(world, network_of_commissions):
    batch = network_of_commissions[-20:]
    day_sums = _last_statement(lambda: commissions_source(world.a.network.pk, batch, "UTC"))
    found = selectors.commissions_to_email(network_id=world.a.network.pk, ids=batch)
    assert sorted(found) == batch and all(c.emailed_order_id.startswith("r-") for c in found.values())
    emails = _last_statement(lambda: selectors.commissions_to_email(network_id=world.a.network.pk, ids=batch))
    for sql in (day_sums, emails):
        assert f'"commissions_commission"."network_id" = {world.a.network.pk}' in sql  # one network's statement
        assert _rows_read(sql) < ROWS / 4  # the network is ROWS commissions and ROWS conversions
