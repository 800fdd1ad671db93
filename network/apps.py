from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network (tenancy)"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from . import accounts  # noqa: F401  (allauth signal receivers)
