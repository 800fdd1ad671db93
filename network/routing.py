"""Django's own statements over tenant rows routed by network: related-object accessors and prefetches
(`route_descriptors_by_network`, per field, from `models.join_tenant_foreign_keys_on_network`), and cascading deletes
(`install`, once, from `network.apps`): the collector finds a deleted row's cascaded rows and deletes (or nulls) them
by id; here those statements also name the networks of the rows being deleted. Rows of one network only point at rows
of the same network (the composite keys), so those networks are the networks of everything the cascade touches. A
deleted network names itself, and goes whole; a deleted user's networks are read from the rows that name it
(docs/scaling.md, "Deleting a network or a user").
"""

import contextvars
import types
from contextlib import contextmanager

from django.db.models import QuerySet, deletion
from django.db.models.sql import subqueries
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, NO_RESULTS

from core.citus import REFERENCE_WITH_NETWORK


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


def _is_tenant(model) -> bool:
    """Distributed by network_id (core.citus): a reference table with network_id is read anywhere."""
    return _has_network(model) and model._meta.db_table not in REFERENCE_WITH_NETWORK


def _is_network(model) -> bool:
    return model._meta.label_lower == "network.network"


def _row_network(obj):
    """The network a row lives in: its network_id, a Network's own id, None for a row of no network (a user)."""
    if _is_network(type(obj)):
        return obj.pk
    return getattr(obj, "network_id", None)


def _networks_of_rows(objs):
    """The networks of the rows, or None when one of them is of no network (a user)."""
    networks = {_row_network(obj) for obj in objs}
    return None if None in networks else networks


def _goes_with_its_network(model) -> bool:
    """The model's rows are collected (cascade) through their own `network` key when their network is deleted."""
    field = next((f for f in model._meta.concrete_fields if f.attname == "network_id"), None)
    return (field is not None and field.is_relation and _is_network(field.related_model)
            and field.remote_field.on_delete is deletion.CASCADE)


_keeping: dict = {}


def _keeping_network(rows):
    """The collector narrows the related rows it loads to the keys other rows point at (`.only(...)`); these rows
    keep their network_id too, so their own cascades and batches name it without reading each row again by id."""
    cls = type(rows)
    if getattr(cls, "_keeps_network", False):
        return rows
    keeping = _keeping.get(cls)
    if keeping is None:
        def only(self, *fields):
            return cls.only(self, *fields, "network_id")

        keeping = _keeping[cls] = type(cls.__name__, (cls,), {"only": only, "_keeps_network": True})
    rows.__class__ = keeping
    return rows


def _networks_pointing_at(rows) -> set:
    """The networks of the tenant rows that point at rows of no network (users): read from those rows themselves,
    so no network is missed, a former member's included (one read over every shard, by the indexed key; then
    every write names the networks found)."""
    return set(rows.order_by().values_list("network_id", flat=True).distinct())


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
    collect = deletion.Collector.collect
    related_objects = deletion.Collector.related_objects
    delete = deletion.Collector.delete

    def routed_collect(self, objs, source=None, *args, **kwargs):
        if source is None and "_whole_networks" not in self.__dict__:
            # The first call names what is deleted: networks are deleted whole, with every row they hold.
            model = getattr(objs, "model", None) or (type(next(iter(objs))) if objs else None)
            self._whole_networks = frozenset()
            if model is not None and _is_network(model):
                objs = list(objs)
                self._whole_networks = frozenset(obj.pk for obj in objs)
        return collect(self, objs, source, *args, **kwargs)

    def routed_related_objects(self, related_model, related_fields, objs):
        rows = related_objects(self, related_model, related_fields, objs)
        if not _has_network(related_model) or not objs:
            return rows
        rows = _keeping_network(rows)
        networks = _networks_of_rows(objs)
        if networks is None:  # users: the networks of the rows that point at them
            if not _is_tenant(related_model):
                return rows
            networks = _networks_pointing_at(rows)
            return rows.filter(network_id__in=sorted(networks)) if networks else rows.none()
        whole = self.__dict__.get("_whole_networks")
        if whole and networks <= whole and not _is_network(type(objs[0])) and _goes_with_its_network(related_model):
            # A deleted network's rows are all collected through their own network key; a key between two of its
            # rows (even PROTECT: both go) has nothing left to do.
            return rows.none()
        return rows.filter(network_id__in=sorted(networks))

    def routed_delete(self):
        # Every tenant row the collector deletes or updates by id is one of its instances: their networks (a deleted
        # Network's own id) are the networks of the batches. Rows of no network (users) are not tenant rows.
        rows = [obj for instances in self.data.values() for obj in instances]
        rows += [obj for lists in self.field_updates.values() for instances in lists
                 if not isinstance(instances, QuerySet) for obj in instances]
        networks = {_row_network(obj) for obj in rows} - {None}
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
    deletion.Collector.collect = routed_collect
    deletion.Collector.related_objects = routed_related_objects
    deletion.Collector.delete = routed_delete
    subqueries.DeleteQuery.delete_batch = delete_batch
    subqueries.UpdateQuery.update_batch = update_batch
    deletion.Collector._routed_by_network = True
