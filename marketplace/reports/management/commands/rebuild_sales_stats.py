"""Recompute the sales, fulfilment and registration rollups of a range of days (same rows when run twice)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace.reports.operations import fulfilment_rebuild, registrations_rebuild
from marketplace.reports.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the sales rollups of the days --from..--to (inclusive) from orders."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")

    def handle(self, *args, first, last, **options):
        try:
            start = date.fromisoformat(first)
            end = date.fromisoformat(last) if last else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"dates are YYYY-MM-DD: {exc}") from None
        if end < start:
            raise CommandError("--to is before --from")
        written = rollups_rebuild(first=start, last=end)
        self.stdout.write(f"{start}..{end}: {written['sales']} sales rows, {written['lines']} line rows")
        fulfilment = fulfilment_rebuild(first=start, last=end)
        registrations = registrations_rebuild(first=start, last=end)
        self.stdout.write(f"{start}..{end}: {fulfilment} fulfilment rows, {registrations} registration rows")
