from django.apps import AppConfig
from django.conf import settings


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from tracking import click_receivers  # noqa: F401  (connects the link cache invalidation)

        settings.CELERY_BEAT_SCHEDULE.update(
            {
                "tracking-clicks-ingest": {"task": "tracking.tasks_clicks.clicks_ingest", "schedule": 5.0},
                "tracking-click-partitions": {"task": "tracking.tasks_clicks.click_partitions_ensure",
                                              "schedule": 3600.0},
                "tracking-clicks-retention": {"task": "tracking.tasks_clicks.clicks_retention_purge",
                                              "schedule": 6 * 3600.0},
            }
        )
