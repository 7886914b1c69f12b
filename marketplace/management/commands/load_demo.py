"""Load the demo data: one account per role, then the demo farm households and their produce.

Safe to run again: nothing is duplicated and nothing that exists is changed.
"""

import time

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from farms.demo import demo_farms_load
from marketplace.accounts.models import Role, User
from marketplace.accounts.phone import format_phone, normalize_phone
from marketplace.accounts.services import user_create
from marketplace.reports.demo import demo_history_load
from orders.demo import demo_orders_load

DEMO_PASSWORD = "chonoi-demo"
DEMO_ACCOUNTS = [
    # (role, phone, full name)
    (Role.BUYER, "0901000001", "Nguyễn Thị Lan"),
    (Role.FARMER, "0901000002", "Trần Văn Hùng"),
    (Role.OFFICIAL, "0901000003", "Lê Minh Tâm"),
    (Role.COURIER, "0901000004", "Phạm Quốc Bảo"),
    (Role.STAFF, "0901000005", "Võ Thanh Hà"),
]


class Command(BaseCommand):
    help = "Create the demo accounts and farm households (idempotent) and print them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts-only",
            action="store_true",
            help="Create the demo accounts but not the farm households (seconds faster).",
        )
        parser.add_argument(
            "--history-months",
            type=int,
            default=6,
            help="Months of demo sales history before today (0: none). Loaded once.",
        )

    def handle(self, *args, accounts_only=False, history_months=6, **options):
        started = time.monotonic()
        password_hash = None
        with transaction.atomic():
            for role, phone, name in DEMO_ACCOUNTS:
                if User.objects.filter(phone=normalize_phone(phone)).exists():
                    continue
                if password_hash is None:
                    # One hash for the shared, published demo password: each PBKDF2 run costs
                    # a quarter of a second, and `make run` waits for this command.
                    password_validation.validate_password(DEMO_PASSWORD)
                    password_hash = make_password(DEMO_PASSWORD)
                user = user_create(
                    phone=phone,
                    password=None,
                    full_name=name,
                    role=role,
                    city_wide=role == Role.OFFICIAL,
                    privacy_consent=True,
                )
                user.password = password_hash
                user.is_superuser = role == Role.STAFF
                user.save(update_fields=["password", "is_superuser"])
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for role, phone, name in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role.value:<9} {format_phone(normalize_phone(phone))}  {name}")
        if not accounts_only:
            self.load_farms(started, history_months=history_months)

    def load_farms(self, started: float, *, history_months: int) -> None:
        official_phone = next(phone for role, phone, _name in DEMO_ACCOUNTS if role == Role.OFFICIAL)
        official = User.objects.get(phone=normalize_phone(official_phone))
        summary = demo_farms_load(official=official, password=DEMO_PASSWORD)
        self.stdout.write(f"{summary.line()} [{time.monotonic() - started:.1f} s]")
        buyer, farmer = (
            User.objects.get(phone=normalize_phone(phone))
            for role, phone, _name in DEMO_ACCOUNTS
            if role in (Role.BUYER, Role.FARMER)
        )
        courier_phone = next(phone for role, phone, _name in DEMO_ACCOUNTS if role == Role.COURIER)
        courier = User.objects.get(phone=normalize_phone(courier_phone))
        placed = demo_orders_load(buyer=buyer, farmer=farmer, courier=courier)
        if placed:
            self.stdout.write(f"Demo orders placed for the demo buyer: {placed}")
        history_started = time.monotonic()
        written = demo_history_load(months=history_months)
        if written:
            self.stdout.write(
                f"Demo sales history: {written} orders over {history_months} months, rolled up "
                f"[{time.monotonic() - history_started:.1f} s]"
            )
