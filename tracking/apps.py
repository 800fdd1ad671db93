from django.apps import AppConfig
from django.conf import settings


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        import tracking.tasks_outbound  # noqa: F401  (connects the queueing of deliveries and late attributions)
        from network.models import Advertiser, ApiKey, Membership, User
        from tracking import click_receivers, member_addresses  # noqa: F401  (link cache, members' addresses)
        from tracking.models_outbound import WebhookEndpoint
        from tracking.postback_fast import forget_keys

        # The postback's cached API-key rows: a change in this process takes effect at once (others: KEY_TTL).
        for model in (ApiKey, Membership, User, Advertiser, WebhookEndpoint):
            for signal in (post_save, post_delete):
                signal.connect(forget_keys, sender=model, dispatch_uid=f"postback_forget_keys_{model.__name__}")

        settings.CELERY_BEAT_SCHEDULE.update(
            {
                "tracking-clicks-ingest": {"task": "tracking.tasks_clicks.clicks_ingest", "schedule": 5.0},
                "tracking-click-partitions": {"task": "tracking.tasks_clicks.click_partitions_ensure",
                                              "schedule": 3600.0},
                "tracking-clicks-retention": {"task": "tracking.tasks_clicks.clicks_retention_purge",
                                              "schedule": 6 * 3600.0},
                "tracking-member-addresses-retention": {
                    "task": "tracking.tasks_clicks.member_addresses_retention_purge", "schedule": 6 * 3600.0},
            }
        )
