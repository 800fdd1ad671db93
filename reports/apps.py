from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self):
        from network.daily import timezone_changed

        from .tasks import queue_rebuild

        timezone_changed.connect(queue_rebuild, dispatch_uid="reports.rebuild_days")
