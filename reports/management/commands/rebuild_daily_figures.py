"""manage.py rebuild_daily_figures [--network SLUG ...] [--link-rollups]: rebuild the day tables (every network by
default) from the hourly rollups, conversions and commissions, in each network's time zone, printing the progress.
With --link-rollups, first the per-link hourly rollups (LinkRollup) from the raw clicks, for the hours those still
cover (older hours, whose clicks retention removed, are kept): a repair after clicks were written around the
ingester, run while the ingester is stopped (its batches add to the rows being rewritten). The day tables never
read LinkRollup, and a time zone change leaves it as it is (its hours are UTC)."""

import time
from datetime import date
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from network.models import DayRebuild, Network
from reports.rebuild import days_rebuild
from tracking.link_rollups import link_rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the per-day report tables of one or every network from their sources."

    def add_arguments(self, parser):
        parser.add_argument("--network", action="append", default=[], help="a network's slug (repeatable)")
        parser.add_argument("--link-rollups", action="store_true",
                            help="also rewrite the per-link hourly rollups from the raw clicks they still cover")

    def handle(self, *args, network, link_rollups=False, **options):
        networks = Network.objects.order_by("pk")
        if network:
            networks = networks.filter(slug__in=network)
            missing = set(network) - set(networks.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No network {', '.join(sorted(missing))}.")
        for item in networks:
            started = time.monotonic()
            if link_rollups:
                rows = link_rollups_rebuild(item.pk)
                self.stdout.write(f"{item.slug}: {rows} link rollup rows from the raw clicks")
            rebuild = DayRebuild.objects.create(network=item, timezone=item.timezone)
            steps = days_rebuild(item.pk, rebuild=rebuild, progress=partial(self.step_done, item.slug))
            self.stdout.write(f"{item.slug}: {steps} steps of days in {item.timezone}, "
                              f"{time.monotonic() - started:.1f} s")

    def step_done(self, slug: str, done: int, total: int, since: date, until: date) -> None:
        self.stdout.write(f"{slug}: step {done} of {total}, {since} to {until}")
