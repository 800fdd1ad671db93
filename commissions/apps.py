from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = "Commissions"

    def ready(self):
        from celery.schedules import crontab
        from django.conf import settings

        from core import embedded
        from tracking.signals import conversion_recorded, conversion_refunded

        from .receivers import on_conversion_recorded, on_conversion_refunded
        from .tasks import commissions_catch_up_embedded

        conversion_recorded.connect(on_conversion_recorded, dispatch_uid="commissions.compute")
        conversion_refunded.connect(on_conversion_refunded, dispatch_uid="commissions.reverse")
        settings.CELERY_BEAT_SCHEDULE.setdefault("commissions-approve-due", {
            "task": "commissions.tasks.commissions_approve_due_task", "schedule": crontab(minute="*/15"),
        })
        embedded.register("commissions-catch-up", commissions_catch_up_embedded)
        settings.CELERY_BEAT_SCHEDULE.setdefault("commissions-catch-up", {
            "task": "commissions.tasks.commissions_catch_up_task", "schedule": crontab(minute="*/5"),
        })
        settings.CELERY_BEAT_SCHEDULE.setdefault("commissions-tier-trueups", {
            "task": "commissions.tasks.tier_trueups_task", "schedule": crontab(minute=23),
        })
        settings.CELERY_BEAT_SCHEDULE.setdefault("commissions-cpc-accrue", {
            "task": "commissions.tasks.cpc_accrue_task", "schedule": crontab(minute=7),
        })
