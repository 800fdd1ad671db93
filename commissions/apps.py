from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = "Commissions"

    def ready(self):
        from core import embedded
        from core.words import reason_reader_register
        from programs.signals import caps_started
        from tracking.signals import conversion_adjusted, conversion_recorded, conversion_refunded, conversions_recorded

        from . import notifications  # noqa: F401  (registers the commission events' examples)
        from .caps import cap_reason_shown, on_caps_started
        from .receivers import (
            on_conversion_adjusted,
            on_conversion_recorded,
            on_conversion_refunded,
            on_conversions_recorded,
        )
        from .retrue import on_period_sales_lost
        from .signals import period_sales_lost
        from .tasks import commissions_catch_up_embedded

        conversion_recorded.connect(on_conversion_recorded, dispatch_uid="commissions.compute")
        conversions_recorded.connect(on_conversions_recorded, dispatch_uid="commissions.compute_batch")
        conversion_refunded.connect(on_conversion_refunded, dispatch_uid="commissions.reverse")
        conversion_adjusted.connect(on_conversion_adjusted, dispatch_uid="commissions.follow_adjustment")
        caps_started.connect(on_caps_started, dispatch_uid="commissions.caps_seed")
        period_sales_lost.connect(on_period_sales_lost, dispatch_uid="commissions.retrue")
        embedded.register("commissions-catch-up", commissions_catch_up_embedded)
        reason_reader_register(cap_reason_shown)
