"""Create a network and its owner; print the owner's API key alone on the last line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from network.services import network_create


class Command(BaseCommand):
    help = "Create a network (tenant) and its owner. The owner's API key is printed on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--timezone", default="UTC")

    def handle(self, *args, name, slug, currency, owner_email, timezone, **options):
        try:
            network, issued = network_create(
                name=name, slug=slug, currency=currency.upper(), owner_email=owner_email, timezone_name=timezone
            )
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "message_dict") else {"error": exc.messages}
            text = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in messages.items())
            raise CommandError(text) from exc
        self.stdout.write(f"Created network '{network.name}' ({network.slug}, {network.default_currency}).")
        self.stdout.write(f"Owner: {owner_email}. The API key below is shown once.")
        self.stdout.write(issued.raw)
