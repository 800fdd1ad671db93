"""Idempotent demo data: each app adds its part through its own `demo.seed(ctx)`."""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Order follows the dependencies: later apps use what earlier ones made.
# The 90 days of traffic (reports) come before the commission states and the paid batch, so the batch pays
# the approved history of every demo affiliate.
DEMO_APPS = ["network", "programs", "tracking", "reports", "commissions", "payouts"]


class Command(BaseCommand):
    help = ("Load (or refresh) the demo network. A rerun changes nothing already recorded; it adds the traffic, "
            "sales and hold-period approvals of the time since the last run.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (demo keys are public).")
        parser.add_argument("--days", type=int, default=90,
                            help="Days of traffic history for the reports (default 90; fewer seed faster).")

    def handle(self, *args, force=False, days=90, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with public demo passwords and keys; use --force.")
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        ctx: dict = {"stdout": self.stdout, "days": days}
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(ctx)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in ctx.get("summary", []):
            self.stdout.write(line)
