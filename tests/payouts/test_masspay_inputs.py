"""Payout CSV: a bank holder, account or note that a spreadsheet would run as a formula behind leading blanks
(CR, LF, tab) is defused, as in the report CSV (one rule: core.csvsafe)."""

import csv
import io

import pytest

from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind

from .helpers import earn, method

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("holder", ["\r=HYPERLINK(1)", "\n=HYPERLINK(1)", "\t@SUM(A1)", "\r\n+1+1"])
def test_bank_file_defuses_formulas_behind_blanks(world, stripe_api, holder):
    earn(world.a, "30.00")
    method(world.a.affiliate, MethodKind.BANK, bank_holder=holder)
    batch = payout_batch_run(batch_id=payout_batch_start(network=world.a.network).pk)
    response = world.a.client("staff").get(f"/api/v1/payout-batches/{batch.pk}/csv?method=bank")
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert rows[1][0] == "'" + holder
