"""Group the shipments waiting for a day into collection runs by zone (the scheduler runs it daily)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from logistics.runs import runs_build
from logistics.selectors import run_shipments


class Command(BaseCommand):
    help = "Group the shipments waiting for a day into collection runs by pickup zone."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day of the runs, YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        day = None
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}") from None
        runs = runs_build(day=day)
        for run in runs:
            courier = run.courier.phone if run.courier else "unassigned"
            self.stdout.write(
                f"{run.date} {run.zone.name} #{run.number}: {run_shipments(run).count()} shipments, {courier}"
            )
        self.stdout.write(f"{len(runs)} run(s) built")
