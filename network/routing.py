"""Deletes routed by network: Django's collector finds a deleted row's cascaded rows and deletes (or nulls) them by id;
here those statements also name the networks of the rows being deleted, so Citus runs each on their shards.

Installed once by `network.apps`. Rows of one network only point at rows of the same network (the composite keys),
so the networks of the collected rows are the networks of everything the cascade touches.
"""

import contextvars
from contextlib import contextmanager

from django.db.models import deletion
from django.db.models.sql import subqueries
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, NO_RESULTS

_networks: contextvars.ContextVar = contextvars.ContextVar("deleting_networks", default=None)


def _has_network(model) -> bool:
    return any(field.attname == "network_id" for field in model._meta.concrete_fields)


@contextmanager
def _deleting_in(network_ids):
    token = _networks.set(frozenset(network_ids) or None)
    try:
        yield
    finally:
        _networks.reset(token)


def install() -> None:
    if getattr(deletion.Collector, "_routed_by_network", False):
        return
    related_objects = deletion.Collector.related_objects
    delete = deletion.Collector.delete

    def routed_related_objects(self, related_model, related_fields, objs):
        rows = related_objects(self, related_model, related_fields, objs)
        networks = {getattr(obj, "network_id", None) for obj in objs}
        if _has_network(related_model) and networks and None not in networks:
            rows = rows.filter(network_id__in=sorted(networks))
        return rows

    def routed_delete(self):
        networks = {getattr(obj, "network_id", None) for instances in self.data.values() for obj in instances}
        if None in networks:  # a row without a network (a user, a network) is in the delete: leave it as Django has it
            networks = set()
        with _deleting_in(networks):
            return delete(self)

    def delete_batch(self, pk_list, using):
        networks = _networks.get()
        if not networks or not _has_network(self.model):
            return original_delete_batch(self, pk_list, using)
        deleted = 0
        for offset in range(0, len(pk_list), GET_ITERATOR_CHUNK_SIZE):
            self.clear_where()
            self.add_filter("network_id__in", sorted(networks))
            self.add_filter(f"{self.get_meta().pk.attname}__in", pk_list[offset:offset + GET_ITERATOR_CHUNK_SIZE])
            deleted += self.do_query(self.get_meta().db_table, self.where, using=using)
        return deleted

    def update_batch(self, pk_list, values, using):
        networks = _networks.get()
        if not networks or not _has_network(self.model):
            return original_update_batch(self, pk_list, values, using)
        self.add_update_values(values)
        for offset in range(0, len(pk_list), GET_ITERATOR_CHUNK_SIZE):
            self.clear_where()
            self.add_filter("network_id__in", sorted(networks))
            self.add_filter("pk__in", pk_list[offset:offset + GET_ITERATOR_CHUNK_SIZE])
            self.get_compiler(using).execute_sql(NO_RESULTS)

    original_delete_batch = subqueries.DeleteQuery.delete_batch
    original_update_batch = subqueries.UpdateQuery.update_batch
    deletion.Collector.related_objects = routed_related_objects
    deletion.Collector.delete = routed_delete
    subqueries.DeleteQuery.delete_batch = delete_batch
    subqueries.UpdateQuery.update_batch = update_batch
    deletion.Collector._routed_by_network = True
