"""Optional read replica for reports: DATABASE_REPLICA_URL adds a `replica` database, and code inside
`replica_reads()` (the report selector) reads from it; everything else, and every write, uses `default`."""

import contextvars
from contextlib import contextmanager

from django.conf import settings

REPLICA = "replica"
_reading = contextvars.ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads():
    """Reads in this block may come from the replica (seconds behind the primary): reports, never a read that
    decides a write."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """Installed only when a replica is configured (config/settings.py)."""

    def db_for_read(self, model, **hints):
        if _reading.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data: an object read from the replica may relate to one from the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica follows the primary's schema by replication
