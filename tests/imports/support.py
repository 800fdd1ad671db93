"""Helpers of the CSV import tests: a CSV file from rows, its upload through the API, and money sums to compare."""

from collections import defaultdict
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from commissions.models import Commission, LedgerEntry


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(cells) for cells in [header, *rows]).encode() + b"\n"


def committed(call, *args, **kwargs):
    """`call(...)` with what runs after its commit (the import task, commissions) run as in production: a test's
    transaction never commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return call(*args, **kwargs)


def upload(client, data: bytes, name: str = "orders.csv", **headers):
    return committed(client.post, "/api/v1/conversions/import",
                     {"file": SimpleUploadedFile(name, data, "text/csv")}, format="multipart", **headers)


def commission_rows(network) -> list[tuple]:
    """(order id, tier, amount, currency, status) of the network's commissions."""
    return sorted(Commission.objects.for_network(network).values_list(
        "conversion__order_id", "tier", "amount", "currency", "status"))


def ledger_sums(network) -> dict:
    """The sum of the network's ledger entries per (account kind, currency), debits and credits apart."""
    sums: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for kind, currency, amount in LedgerEntry.objects.for_network(network).values_list(
            "account__kind", "currency", "amount"):
        sums[kind, currency][0 if amount >= 0 else 1] += amount
    return {key: tuple(value) for key, value in sums.items()}


def imported(client, data: bytes, **headers) -> dict:
    """Upload, then read the job once its processing (after the upload's commit) has run."""
    response = upload(client, data, **headers)
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['id']}").json()
