from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from marketplace.accounts.models import Role
from marketplace.accounts.services import user_create
from marketplace.geo.models import Ward


class Command(BaseCommand):
    help = "Create a user of any role (officials and couriers are created only by staff)."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--phone", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="Full name (defaults to the role's name)")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--ward",
            action="append",
            default=[],
            metavar="CODE",
            help="Official's ward (5-digit code); repeat for several. None means city-wide.",
        )

    def handle(self, *args, **opts):
        role = opts["role"]
        codes = opts["ward"]
        if codes and role != Role.OFFICIAL:
            raise CommandError("--ward is only for officials.")
        wards = list(Ward.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {w.code for w in wards})
        if unknown:
            raise CommandError(f"Unknown ward code(s): {', '.join(unknown)}")
        try:
            user = user_create(
                phone=opts["phone"],
                password=opts["password"],
                full_name=opts["name"] or Role(role).label,
                role=role,
                email=opts["email"],
                wards=wards,
                city_wide=role == Role.OFFICIAL and not wards,
            )
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from None
        scope = ""
        if role == Role.OFFICIAL:
            scope = " (city-wide)" if user.city_wide else f" (wards: {', '.join(codes)})"
        self.stdout.write(self.style.SUCCESS(f"Created {role} {user.phone}{scope}"))
