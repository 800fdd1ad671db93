"""The day tables of a network as one comparable value, for the tests that hold the writers against a rebuild."""

from commissions.models import CommissionDay, CommissionPartnerDay
from reports.tasks import day_changes_fold
from tracking.models import ClickDay, ClickPartnerDay, ConversionDay, ConversionPartnerDay

TABLES = (ClickDay, ConversionDay, CommissionDay, ClickPartnerDay, ConversionPartnerDay, CommissionPartnerDay)


def day_tables(network_id: int) -> dict:
    """The day tables of a network and their per-partnership twins, their changes folded in first (the beat's
    task): {(table, key): sums}, rows of zeros left out."""
    day_changes_fold()
    found = {}
    for model in TABLES:
        for row in model.objects.filter(network_id=network_id).values():
            sums = tuple(row[name] for name in model.day_sums)
            if any(sums):
                key = tuple(row[model._meta.get_field(name).attname] for name in model.day_key)
                found[model.__name__, key] = sums
    return found
