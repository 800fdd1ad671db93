from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        import tracking.tasks_imports  # noqa: F401  (connects the queueing of CSV imports)
        import tracking.tasks_outbound  # noqa: F401  (connects the queueing of deliveries and late attributions)
        from network.models import Advertiser, ApiKey, Membership, User
        from tracking import click_receivers, events, member_addresses  # noqa: F401  (link cache, members' addresses)
        from tracking.models_outbound import WebhookEndpoint
        from tracking.postback_fast import forget_keys

        events.connect()  # affiliates' and partnerships' signals become webhook events
        # A commission's stored reason names its conversion's signals by code; pages show their titles.
        from core.words import signal_titles_register
        from tracking.fraud_words import TITLES

        signal_titles_register(TITLES)

        # The postback's cached API-key rows: a change in this process takes effect at once (others: KEY_TTL).
        for model in (ApiKey, Membership, User, Advertiser, WebhookEndpoint):
            for signal in (post_save, post_delete):
                signal.connect(forget_keys, sender=model, dispatch_uid=f"postback_forget_keys_{model.__name__}")
