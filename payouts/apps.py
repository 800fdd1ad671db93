from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Payouts"

    def ready(self):
        from core import embedded

        from . import transitions  # noqa: F401  (registers the payout events' examples)
        from .tasks import payout_batches_resume_embedded

        embedded.register("payouts-resume", payout_batches_resume_embedded)
