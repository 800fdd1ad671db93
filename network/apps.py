from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network (tenancy)"

    def ready(self):
        # Registers the OpenAPI auth extension (schema) and allauth signal receivers (accounts).
        from django.apps import apps

        from . import accounts, schema  # noqa: F401
        from .models import join_tenant_foreign_keys_on_network

        # Joins between tenant tables carry network_id (Citus routes them to one shard).
        join_tenant_foreign_keys_on_network(apps.get_models())
        # Cascading deletes name the networks of the deleted rows.
        from .routing import install

        install()
        # PostgreSQL lets a GROUP BY of a table's whole primary key stand for its other columns; tenant keys are
        # (network_id, id) in the database while Django's pk is `id`, so Django must group by every selected column.
        from django.db.backends.postgresql.features import DatabaseFeatures

        DatabaseFeatures.allows_group_by_selected_pks = False
