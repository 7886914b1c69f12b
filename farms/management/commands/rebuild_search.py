"""Recompute every listing's search columns (after ward alias data or search rules change)."""
from django.core.management.base import BaseCommand

from farms.models import Product
from farms.search import refresh_search_columns


class Command(BaseCommand):
    help = "Recompute the catalogue search columns of every listing."

    def handle(self, *args, **options):
        columns = refresh_search_columns(Product.objects.all())
        self.stdout.write(f"Search columns checked for {len(columns)} listings.")
