"""Compute commissions for recent attributed conversions that have none (e.g. the broker was down)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from commissions.services import commissions_for_conversion
from tracking.models import Conversion


class Command(BaseCommand):
    help = "Compute missing commissions for attributed conversions of the last N days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days=7, **options):
        since = timezone.now() - timedelta(days=days)
        ids = (Conversion.objects.filter(created_at__gte=since, affiliate__isnull=False, commissions__isnull=True)
               .values_list("pk", flat=True))
        made = sum(len(commissions_for_conversion(conversion_id=pk)) for pk in ids.iterator())
        self.stdout.write(f"{made} commissions written.")
