"""manage.py rebuild_daily_figures [--network SLUG ...]: rebuild the day tables (every network by default) from
the hourly rollups, conversions and commissions, in each network's time zone, printing the progress."""

import time
from datetime import date
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from network.models import DayRebuild, Network
from reports.rebuild import days_rebuild


class Command(BaseCommand):
    help = "Rebuild the per-day report tables of one or every network from their sources."

    def add_arguments(self, parser):
        parser.add_argument("--network", action="append", default=[], help="a network's slug (repeatable)")

    def handle(self, *args, network, **options):
        networks = Network.objects.order_by("pk")
        if network:
            networks = networks.filter(slug__in=network)
            missing = set(network) - set(networks.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No network {', '.join(sorted(missing))}.")
        for item in networks:
            started = time.monotonic()
            rebuild = DayRebuild.objects.create(network=item, timezone=item.timezone)
            steps = days_rebuild(item.pk, rebuild=rebuild, progress=partial(self.step_done, item.slug))
            self.stdout.write(f"{item.slug}: {steps} steps of days in {item.timezone}, "
                              f"{time.monotonic() - started:.1f} s")

    def step_done(self, slug: str, done: int, total: int, since: date, until: date) -> None:
        self.stdout.write(f"{slug}: step {done} of {total}, {since} to {until}")
