"""Load the demo data: one account per role. Safe to run again (nothing is duplicated)."""
from django.core.management.base import BaseCommand
from django.db import transaction

from marketplace.accounts.models import Role, User
from marketplace.accounts.phone import format_phone, normalize_phone
from marketplace.accounts.services import user_create

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
    help = "Create the demo accounts (idempotent) and print them."

    def handle(self, *args, **options):
        with transaction.atomic():
            for role, phone, name in DEMO_ACCOUNTS:
                if User.objects.filter(phone=normalize_phone(phone)).exists():
                    continue
                user = user_create(
                    phone=phone,
                    password=DEMO_PASSWORD,
                    full_name=name,
                    role=role,
                    city_wide=role == Role.OFFICIAL,
                    privacy_consent=True,
                )
                if role == Role.STAFF:
                    user.is_superuser = True
                    user.save(update_fields=["is_superuser"])
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for role, phone, name in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role.value:<9} {format_phone(normalize_phone(phone))}  {name}")
