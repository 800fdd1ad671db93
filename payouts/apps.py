from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Payouts"

    def ready(self):
        from celery.schedules import crontab
        from django.conf import settings

        from core import embedded

        from .tasks import payout_batches_resume_embedded

        embedded.register("payouts-resume", payout_batches_resume_embedded)

        # Hourly: each network's schedule is checked in its own time zone; a batch runs once per period.
        settings.CELERY_BEAT_SCHEDULE.setdefault("payouts-scheduled", {
            "task": "payouts.tasks.payouts_scheduled_task", "schedule": crontab(minute=20),
        })
