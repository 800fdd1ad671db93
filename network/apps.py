from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network (tenancy)"

    def ready(self):
        # Registers the OpenAPI auth extension (schema) and allauth signal receivers (accounts).
        from . import accounts, schema  # noqa: F401
