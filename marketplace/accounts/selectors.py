"""Reads of accounts."""

from django.db.models import QuerySet
from django.utils import timezone

from .hooks import export_sections
from .models import User
from .personal_data import personal_data_export


def user_list(*, role: str | None = None) -> QuerySet[User]:
    """Return users for staff, newest first, with officials' wards prefetched."""
    users = User.objects.prefetch_related("wards").order_by("-date_joined", "-id")
    return users.filter(role=role) if role else users


def user_data_export(*, user: User) -> dict:
    """Return everything Chợ Nổi holds about `user`, as the personal data law asks."""
    data = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "id": user.pk,
            "phone": user.phone,
            "full_name": user.full_name,
            "email": user.email,
            "role": user.role,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "privacy_consent_at": (user.privacy_consent_at.isoformat() if user.privacy_consent_at else None),
            "privacy_notice_version": user.privacy_notice_version,
            "wards": sorted(user.wards.values_list("code", flat=True)),
            "city_wide": user.city_wide,
        },
    }
    for name, build in export_sections().items():
        data[name] = build(user)
    # Every row the personal data registry finds of the person, with every personal field
    # (private files by name and download address): complete by construction.
    data["personal_data"] = personal_data_export(user)
    return data
