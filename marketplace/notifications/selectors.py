"""Reads of notifications; every query is scoped to one user."""
from django.db.models import QuerySet

from .models import Channel, Notification


def notifications_for_user(*, user) -> QuerySet[Notification]:
    """Return the user's in-app notifications, newest first."""
    return Notification.objects.filter(user=user, channels__contains=Channel.IN_APP.value)


def notification_unread_count(*, user) -> int:
    return notifications_for_user(user=user).filter(read_at__isnull=True).count()


def notifications_export(user) -> list[dict]:
    return [
        {
            "subject": n.subject,
            "body": n.body,
            "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None,
        }
        for n in Notification.objects.filter(user=user).order_by("created_at")
    ]
