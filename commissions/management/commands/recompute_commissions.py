"""Compute commissions for recent attributed conversions that have none (e.g. the broker was down)."""

from django.core.management.base import BaseCommand

from commissions.selectors import conversions_without_commissions
from commissions.services import commissions_for_conversion


class Command(BaseCommand):
    help = "Compute missing commissions for attributed conversions of the last N days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days=7, **options):
        ids, networks = conversions_without_commissions(days=days, settle_seconds=0)
        made = sum(len(commissions_for_conversion(conversion_id=pk, network_id=network_id))
                   for pk, network_id in zip(ids, networks, strict=True))
        self.stdout.write(f"{made} commissions written.")
