"""Compute commissions for recent attributed conversions that have none (e.g. the broker was down)."""

from django.core.management.base import BaseCommand

from commissions.selectors import conversions_without_commissions_ids
from commissions.services import commissions_for_conversion


class Command(BaseCommand):
    help = "Compute missing commissions for attributed conversions of the last N days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days=7, **options):
        ids = conversions_without_commissions_ids(days=days, settle_seconds=0)
        made = sum(len(commissions_for_conversion(conversion_id=pk)) for pk in ids)
        self.stdout.write(f"{made} commissions written.")
