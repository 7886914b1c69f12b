"""The registry of every field that holds a person's data (the Personal Data Protection Law).

One list, read by everything that must know where a person's data is:
- the data export (`user_data_export` adds `personal_data`: every registered row of the person,
  with its personal fields; private files by name and download address),
- the account deletion (`personal_data_erase`, connected to `user_anonymised` before any app's
  receiver: it blanks or replaces the fields, deletes rows that exist only for the person, and
  deletes their private files from storage after the commit),
- the tests: `tests/security/test_personal_data_registry.py` fails for a model field that links
  to a user, holds free text, a file, an address or JSON and is neither registered here nor
  exempted with a reason, and checks the export and the deletion field by field on the
  seeded world; the personal-data sweep reads the registered values too.

Accounts imports no domain app: each app registers its own models (and those of the apps below
it whose rows it can trace to a person, like orders for the carrier's shipments) from its
`AppConfig.ready()`, through a `personal_data.py` module of its own.

A field's `erase` says what deletion does with it: `BLANK` (empty, or NULL where the column
allows it; a file is deleted), `replace(build)` (a value built from the row, e.g. `#<id>`),
`keep(why)` (kept by law or as a record, the reason written down) or `elsewhere(why)` (wiped
by a named receiver that must do more in the same step; the deletion test checks it is gone).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import models, transaction


class Kind(StrEnum):
    """What a personal field holds."""

    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    TEXT = "text"  # free text a person wrote or that is about them
    FILE = "file"  # a photo or document (private files are exported by address, not content)
    ID_NUMBER = "id_number"  # citizen ID (CCCD): its hash and last digits only
    BANK = "bank"  # bank transfer references
    NETWORK = "network"  # IP address, browser
    RECORD = "record"  # facts about the person: a standing, a raw provider record


BLANK = "blank"
KEEP = "keep"
ELSEWHERE = "elsewhere"


@dataclass(frozen=True)
class PersonalField:
    name: str
    kind: Kind
    erase: str | Callable[[models.Model], Any] = BLANK
    why: str = ""  # for KEEP and ELSEWHERE: the reason, or who wipes it
    # False for a value of no use to the person that only helps find them (a keyed hash).
    exported: bool = True

    @property
    def must_go(self) -> bool:
        """True when nothing of the value may remain after the person's account is deleted."""
        return self.erase != KEEP


def blank(name: str, kind: Kind) -> PersonalField:
    return PersonalField(name, kind, BLANK)


def replace(name: str, kind: Kind, build: Callable[[models.Model], Any]) -> PersonalField:
    return PersonalField(name, kind, build)


def keep(name: str, kind: Kind, why: str) -> PersonalField:
    return PersonalField(name, kind, KEEP, why)


def elsewhere(name: str, kind: Kind, why: str, *, exported: bool = True) -> PersonalField:
    return PersonalField(name, kind, ELSEWHERE, why, exported)


@dataclass(frozen=True)
class PersonalRecord:
    """A model's rows that belong to a person, and which of their fields are personal."""

    label: str  # unique: "orders.problem", "logistics.shipment (drop-off)"
    model: type[models.Model]
    fields: tuple[PersonalField, ...]
    # The ORM path from the model to the user ("farm_order__order__buyer") or, for rows found
    # otherwise (by phone, by a generic relation), `rows(user, former_phone=, former_email=)`.
    owner: str | None = None
    rows: Callable[..., models.QuerySet] | None = None
    # Delete the rows themselves at deletion (they exist only for the person: a cart, notices).
    delete_rows: bool = False
    # Other columns exported with each row so it can be read (a number, a date); never wiped.
    context: tuple[str, ...] = ()
    # Where the person downloads a private file: `file_url(row, field_name)`.
    file_url: Callable[[models.Model, str], str | None] | None = None

    def rows_of(self, user, *, former_phone: str | None = None, former_email: str | None = None):
        if self.rows is not None:
            return self.rows(user, former_phone=former_phone, former_email=former_email)
        return self.model._default_manager.filter(**{self.owner: user})

    @property
    def owner_field(self) -> str | None:
        """The model's own field the owner path starts with ("farm_order" for a problem)."""
        return self.owner.split("__", 1)[0] if self.owner else None


_records: dict[str, PersonalRecord] = {}
_exempt: dict[tuple[str, str], str] = {}


def personal_data_register(
    model: type[models.Model],
    *,
    fields: Iterable[PersonalField],
    owner: str | None = None,
    rows: Callable[..., models.QuerySet] | None = None,
    delete_rows: bool = False,
    context: Iterable[str] = (),
    file_url: Callable[[models.Model, str], str | None] | None = None,
    label: str | None = None,
) -> PersonalRecord:
    """Declare that `model`'s rows found by `owner` (or `rows`) hold `fields` of that person."""
    if (owner is None) == (rows is None):
        raise ValueError("give exactly one of owner= and rows=")
    label = label or model._meta.label_lower
    record = PersonalRecord(
        label=label,
        model=model,
        fields=tuple(fields),
        owner=owner,
        rows=rows,
        delete_rows=delete_rows,
        context=tuple(context),
        file_url=file_url,
    )
    _records[label] = record
    return record


def personal_data_exempt(model: type[models.Model], reasons: dict[str, str]) -> None:
    """Declare fields that look personal (a user link, free text, a file) but are not, with why."""
    for name, why in reasons.items():
        if not why.strip():
            raise ValueError(f"{model._meta.label}.{name}: say why it holds no personal data")
        _exempt[(model._meta.label, name)] = why


def personal_data_records() -> list[PersonalRecord]:
    return list(_records.values())


def personal_data_exemptions() -> dict[tuple[str, str], str]:
    return dict(_exempt)


# --- Export ---------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _export_value(record: PersonalRecord, row: models.Model, name: str):
    value = getattr(row, name)
    if isinstance(value, models.fields.files.FieldFile):
        if not value:
            return None
        return {
            "name": os.path.basename(value.name),
            "url": record.file_url(row, name) if record.file_url else None,
        }
    if isinstance(value, models.Model):
        return value.pk
    return _plain(value)


def personal_data_export(user) -> dict[str, list[dict]]:
    """Every registered row of `user`, with its personal fields (and context), by record label."""
    export = {}
    for record in _records.values():
        names = [*record.context, *(f.name for f in record.fields if f.exported)]
        export[record.label] = [
            {"id": row.pk, **{name: _export_value(record, row, name) for name in names}}
            for row in record.rows_of(user).order_by("pk")
        ]
    return export


# --- Erasure --------------------------------------------------------------------------------


def _blank_value(model_field: models.Field):
    if isinstance(model_field, models.JSONField):
        return model_field.get_default()
    if model_field.null and not isinstance(model_field, models.CharField | models.TextField):
        return None
    return ""


def _delete_files_on_commit(files: list[tuple[Any, str]]) -> None:
    def delete():
        for storage, name in files:
            storage.delete(name)

    if files:
        transaction.on_commit(delete)


def personal_data_erase(
    *, user, former_phone: str | None = None, former_email: str | None = None, **_signal_kwargs
) -> dict[str, int]:
    """Wipe what the registry says of `user` (a `user_anonymised` receiver); return rows per record.

    `former_phone` and `former_email` are what the account had before `user_anonymise`
    replaced them: rows kept by phone or email (the login lock's records, queued tasks) can
    only be found with them.
    """
    touched = {}
    for record in _records.values():
        rows = record.rows_of(user, former_phone=former_phone, former_email=former_email)
        opts = record.model._meta
        file_fields = [
            f.name
            for f in record.fields
            if isinstance(opts.get_field(f.name), models.FileField)
            and (record.delete_rows or f.erase == BLANK)
        ]
        files = []
        if file_fields:
            for row in rows.only("pk", *file_fields):
                for name in file_fields:
                    value = getattr(row, name)
                    if value:
                        files.append((value.storage, value.name))
        if record.delete_rows:
            count, _unused = rows.delete()
        else:
            blanks = {f.name: _blank_value(opts.get_field(f.name)) for f in record.fields if f.erase == BLANK}
            built = [f for f in record.fields if callable(f.erase)]
            pks = list(rows.values_list("pk", flat=True)) if (blanks or built) else []
            if pks and blanks:
                record.model._default_manager.filter(pk__in=pks).update(**blanks)
            if pks and built:
                for row in record.model._default_manager.filter(pk__in=pks):
                    record.model._default_manager.filter(pk=row.pk).update(
                        **{f.name: f.erase(row) for f in built}
                    )
            count = len(pks)
        _delete_files_on_commit(files)
        touched[record.label] = count
    return touched


# --- Which fields look personal (the completeness test and its demonstration) ----------------

#: CharFields named like these hold free text about people.
PERSONAL_NAME_PARTS = (
    "name",
    "phone",
    "address",
    "note",
    "description",
    "comment",
    "message",
    "body",
    "reason",
    "email",
    "answer",
    "subject",
    "repr",
    "agent",
)


def looks_personal(model_field, user_model) -> bool:
    """A user link, free text, a file, an email or IP address, JSON, or a CharField named so."""
    if model_field.is_relation:
        return model_field.concrete and model_field.related_model is user_model
    free = models.TextField | models.FileField | models.EmailField | models.GenericIPAddressField
    if isinstance(model_field, free | models.JSONField):
        return True
    if isinstance(model_field, models.CharField) and not model_field.choices:
        return any(part in model_field.name for part in PERSONAL_NAME_PARTS)
    return False


def personal_data_gaps(
    model_list: Iterable[type[models.Model]],
    *,
    user_model,
    records: Iterable[PersonalRecord] | None = None,
    exempt: dict[tuple[str, str], str] | None = None,
) -> list[str]:
    """Return "app.Model.field" for each field that looks personal and is neither registered nor exempt.

    Registered: among a record's fields, or the first step of a record's owner path (the link
    that finds the person's rows).
    """
    records = personal_data_records() if records is None else list(records)
    exempt = personal_data_exemptions() if exempt is None else exempt
    covered: set[tuple[str, str]] = set()
    for record in records:
        label = record.model._meta.label
        covered.update((label, f.name) for f in record.fields)
        if record.owner_field:
            covered.add((label, record.owner_field))
    gaps = []
    for model in model_list:
        opts = model._meta
        if opts.proxy or opts.auto_created or not opts.managed:
            continue
        for model_field in [*opts.concrete_fields, *opts.many_to_many]:
            if not looks_personal(model_field, user_model):
                continue
            key = (opts.label, model_field.name)
            if key not in covered and key not in exempt:
                gaps.append(f"{opts.label}.{model_field.name}")
    return gaps
