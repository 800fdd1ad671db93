"""Django's own statements over tenant rows routed by network: related-object accessors and prefetches
(`route_descriptors_by_network`, per field, from `models.join_tenant_foreign_keys_on_network`), and cascading deletes
(`install`, once, from `network.apps`): the collector finds a deleted row's cascaded rows and deletes (or nulls) them
by id; here those statements also name the networks of the rows being deleted. Rows of one network only point at rows
of the same network (the composite keys), so those networks are the networks of everything the cascade touches.
"""

import contextvars
import types
from contextlib import contextmanager

from django.db.models import deletion
from django.db.models.sql import subqueries
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, NO_RESULTS


def _same_network(instance) -> dict:
    # An unsaved row may not have its network yet: then the accessor reads by id alone, as Django does.
    return {} if instance.network_id is None else {"network_id": instance.network_id}


def _networks_of(instances) -> dict:
    networks = {instance.network_id for instance in instances}
    return {} if None in networks else {"network_id__in": sorted(networks)}


def _prefetch_on_networks(descriptor) -> None:
    """A descriptor's prefetch reads the related rows of the instances' networks only (`network_id IN (...)`)."""

    original = descriptor.get_prefetch_querysets

    def get_prefetch_querysets(self, instances, querysets=None):
        model = self.field.remote_field.model if hasattr(self, "field") else self.related.related_model
        base = querysets[0] if querysets else model._base_manager.get_queryset()
        return original(instances, [base.filter(**_networks_of(instances))])

    descriptor.get_prefetch_querysets = types.MethodType(get_prefetch_querysets, descriptor)


def route_descriptors_by_network(model, field) -> None:
    """The related-object accessors of a tenant-to-tenant field read on the instance's network: `obj.program`,
    `membership.advertiser`, `program.partnerships.all()` and their prefetches all filter on network_id, so each
    reads one network's shard (Citus) instead of asking every shard by id."""
    field.get_extra_descriptor_filter = _same_network  # the forward accessor: `obj.program`
    original_forward_filter = field.get_forward_related_filter

    def get_forward_related_filter(obj):  # the reverse one-to-one accessor: `membership.advertiser`
        return {**original_forward_filter(obj), **_same_network(obj)}

    field.get_forward_related_filter = get_forward_related_filter
    _prefetch_on_networks(model.__dict__[field.name])
    accessor = field.remote_field.get_accessor_name()
    if not accessor or accessor.endswith("+"):
        return
    reverse = field.related_model.__dict__.get(accessor)
    if reverse is None:
        return
    if field.one_to_one:
        _prefetch_on_networks(reverse)
        return
    manager_cls = reverse.related_manager_cls

    class NetworkRelatedManager(manager_cls):  # the reverse many-to-one manager: `program.partnerships.all()`
        def __init__(self, instance):
            super().__init__(instance)
            self.core_filters = {**self.core_filters, **_same_network(instance)}

        def get_prefetch_querysets(self, instances, querysets=None):
            base = querysets[0] if querysets else super(manager_cls, self).get_queryset()
            return super().get_prefetch_querysets(instances, [base.filter(**_networks_of(instances))])

    reverse.__dict__["related_manager_cls"] = NetworkRelatedManager


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
