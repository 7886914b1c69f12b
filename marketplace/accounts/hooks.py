"""Extension points for apps above accounts (they register, accounts never imports them).

- Data export: each app adds a section with `register_export_section`.
- Account deletion: `user_anonymised` is sent inside the deletion transaction so
  apps that keep records (orders) can strip personal data from them.
"""
from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

_export_sections: dict[str, Callable[[Any], Any]] = {}

#: Sent with `user` after the account's personal fields are wiped.
user_anonymised = Signal()


def register_export_section(name: str, build: Callable[[Any], Any]) -> None:
    """Add `name` to every data export, built by `build(user)`."""
    _export_sections[name] = build


def export_sections() -> dict[str, Callable[[Any], Any]]:
    return dict(_export_sections)
