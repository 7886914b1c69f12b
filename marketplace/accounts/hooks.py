"""Extension points for apps above accounts (they register, accounts never imports them).

- Data export: each app adds a section with `register_export_section`.
- Account deletion: `user_anonymised` is sent inside the deletion transaction so
  apps that keep records (orders) can strip personal data from them.
- Personal data: every field holding a person's data is registered in
  `marketplace.accounts.personal_data` by the app that owns it; the export and the deletion
  read that registry. Its eraser is connected here, on import, so it runs before every app's
  receiver (they connect in `ready()`), which then find the fields already wiped.
"""

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

from .personal_data import personal_data_erase

_export_sections: dict[str, Callable[[Any], Any]] = {}

#: Sent with `user` after the account's personal fields are wiped (and `former_phone`, the
#: phone it had, so rows kept by phone can be found).
user_anonymised = Signal()
user_anonymised.connect(personal_data_erase, dispatch_uid="accounts-personal-data-registry")


def register_export_section(name: str, build: Callable[[Any], Any]) -> None:
    """Add `name` to every data export, built by `build(user)`."""
    _export_sections[name] = build


def export_sections() -> dict[str, Callable[[Any], Any]]:
    return dict(_export_sections)
