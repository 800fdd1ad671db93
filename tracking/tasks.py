"""Tracking's Celery tasks live in two modules by concern; Celery's autodiscovery imports each app's `tasks`
module, so this one names them (their registered names stay `tracking.tasks_clicks.*`/`tracking.tasks_outbound.*`).
"""

from .tasks_clicks import (
    click_partitions_ensure,
    clicks_ingest,
    clicks_retention_purge,
    member_addresses_retention_purge,
)
from .tasks_imports import conversion_import_process
from .tasks_outbound import conversion_attribute_late, conversions_attribute_overdue, delivery_send

__all__ = [
    "click_partitions_ensure",
    "clicks_ingest",
    "clicks_retention_purge",
    "conversion_attribute_late",
    "conversion_import_process",
    "conversions_attribute_overdue",
    "delivery_send",
    "member_addresses_retention_purge",
]
