"""Notifications' entries in the personal data registry (`marketplace.accounts.personal_data`)."""

from marketplace.accounts.personal_data import Kind, blank, personal_data_register

from .models import Notification


def register() -> None:
    # A notice's text names the person and their orders; the rows exist only for them.
    personal_data_register(
        Notification,
        owner="user",
        fields=[blank("subject", Kind.TEXT), blank("body", Kind.TEXT), blank("url", Kind.TEXT)],
        context=("created_at", "read_at"),
        delete_rows=True,
    )
