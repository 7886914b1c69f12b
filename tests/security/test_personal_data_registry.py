"""The personal data registry is complete, and the export and the deletion do what it says.

`marketplace.accounts.personal_data` lists every field that holds a person's data. These tests
are the auditor's:
- every installed model's field that looks personal (a link to a user, free text, a file, an
  email or IP address, JSON, a CharField named like a name, phone, address, note...) is either
  registered or exempted with a reason: a new model with a user link or free text fails here
  until its app says what it holds (and the check is shown to catch one left out);
- on the seeded world, each user's export (`GET /api/v1/me/export/`) holds every registered
  personal value of theirs, private files by name and address, and no one else's;
- deleting an account wipes every registered value that must go (files gone from storage),
  keeps what the registry keeps and why, and leaves everyone else's data as it was.
"""

import json
import os

import pytest
from django.apps import apps
from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import TestCase

from farms.models import Farm
from marketplace.accounts.personal_data import (
    BLANK,
    ELSEWHERE,
    KEEP,
    Kind,
    personal_data_exemptions,
    personal_data_gaps,
    personal_data_records,
)
from tests.conftest import TEST_PASSWORD

from .world import VIEWERS

User = get_user_model()


# --- Completeness --------------------------------------------------------------------------------


def test_every_field_that_looks_personal_is_registered_or_exempt():
    gaps = personal_data_gaps(apps.get_models(), user_model=User)
    assert not gaps, (
        "fields that may hold a person's data, neither in the personal data registry nor exempt "
        "(register them from the app's personal_data.py, see marketplace/accounts/personal_data.py):\n"
        + "\n".join(gaps)
    )


def _probe_model():
    """A model nobody registered, in a registry of its own (the project's models stay as they are)."""
    probe_apps = Apps()

    class Meta:
        app_label = "privacy_probe"
        apps = probe_apps

    return type(
        "Diary",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": Meta,
            "owner": models.ForeignKey(User, on_delete=models.CASCADE, related_name="+"),
            "entry": models.TextField(),
            "photo": models.ImageField(),
            "contact_phone": models.CharField(max_length=32),
            "mood": models.CharField(max_length=10, choices=[("ok", "ok")]),
            "pages": models.IntegerField(),
        },
    )


def test_the_check_fails_for_a_new_model_with_a_user_link_free_text_or_a_file():
    diary = _probe_model()
    assert personal_data_gaps([diary], user_model=User) == [
        "privacy_probe.Diary.owner",
        "privacy_probe.Diary.entry",
        "privacy_probe.Diary.photo",
        "privacy_probe.Diary.contact_phone",
    ]


def test_the_check_fails_when_a_registered_model_is_left_out():
    """The very miss of issue #21: problem reports in no export and no deletion."""
    from orders.models import Problem

    without = [r for r in personal_data_records() if r.model is not Problem]
    assert personal_data_gaps([Problem], user_model=User, records=without) == [
        "orders.Problem.description",
        "orders.Problem.photo",
        "orders.Problem.answer",
    ]
    exempt = {k: v for k, v in personal_data_exemptions().items() if k[0] != "orders.Problem"}
    assert personal_data_gaps([Problem], user_model=User, records=without, exempt=exempt) == [
        "orders.Problem.reported_by",
        "orders.Problem.description",
        "orders.Problem.photo",
        "orders.Problem.answer",
        "orders.Problem.answered_by",
    ]


def _resolve(model, path: str):
    """The model an ORM path from `model` ends at."""
    for step in path.split("__"):
        model_field = model._meta.get_field(step)
        model = model_field.related_model
    return model


def test_every_entry_names_real_fields_reaches_a_user_and_says_why_it_keeps():
    labels = [r.label for r in personal_data_records()]
    assert len(labels) == len(set(labels))
    for record in personal_data_records():
        for name in (*record.context, *(f.name for f in record.fields)):
            try:
                record.model._meta.get_field(name)
            except FieldDoesNotExist:
                pytest.fail(f"{record.label}: no field {name!r}")
        if record.owner:
            assert _resolve(record.model, record.owner) is User, record.label
        for spec in record.fields:
            is_file = isinstance(record.model._meta.get_field(spec.name), models.FileField)
            assert is_file == (spec.kind == Kind.FILE), f"{record.label}.{spec.name}"
            if spec.erase in (KEEP, ELSEWHERE):
                assert len(spec.why) > 20, f"{record.label}.{spec.name}: say why"
            else:
                assert spec.erase == BLANK or callable(spec.erase)
    assert all(len(why) > 10 for why in personal_data_exemptions().values())


# --- The export and the deletion on the seeded world ---------------------------------------------


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _values(user, *, former_phone=None) -> dict:
    """{(record, pk, field): (kind, value)} of every non-empty registered value of `user`."""
    found = {}
    for record in personal_data_records():
        for row in record.rows_of(user, former_phone=former_phone).order_by("pk"):
            for spec in record.fields:
                value = getattr(row, spec.name)
                if isinstance(value, models.fields.files.FieldFile):
                    value = value.name
                elif isinstance(value, models.Model):
                    value = value.pk
                if value not in ("", None, {}, [], 0):
                    found[(record.label, row.pk, spec.name)] = (spec, value)
    return found


def _needle(spec, value) -> str:
    if spec.kind == Kind.FILE:
        return os.path.basename(value)
    return _text(value)


@pytest.mark.django_db
def test_each_export_holds_every_registered_value_of_its_owner_and_nobody_elses(world):
    from rest_framework.test import APIClient

    # Distinctive values of each user, to look for in the others' exports.
    values = {key: _values(user) for key, user in world.users.items()}
    assert any(label == "orders.problem" for label, _pk, _f in values["buyer_alice"])
    # A selling household's name is public (the catalogue shows it): a buyer's orders name it.
    public = set(Farm.objects.filter(status="verified").values_list("name", flat=True))
    missing, foreign = [], []
    for key in VIEWERS[1:]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[key]}")
        response = client.get("/api/v1/me/export/")
        assert response.status_code == 200
        export = response.json()
        text = json.dumps(export, ensure_ascii=False)
        for (label, pk, name), (spec, value) in values[key].items():
            rows = {row["id"]: row for row in export["personal_data"][label]}
            if not spec.exported:
                # Held only to find duplicates (a keyed hash): it must not leave at all.
                if _needle(spec, value) in text:
                    missing.append(f"{key}: {label} #{pk}.{name} is exported though it must not be")
                continue
            if pk not in rows or _needle(spec, value) not in _text(rows[pk][name]):
                missing.append(f"{key}: {label} #{pk}.{name}")
        own = {_needle(spec, value) for spec, value in values[key].values()} | public
        for other, theirs in values.items():
            if other == key:
                continue
            for (label, pk, name), (spec, value) in theirs.items():
                needle = _needle(spec, value)
                if spec.kind == Kind.RECORD or len(needle) < 6 or needle in own:
                    continue  # counts, dates and notes both hold say nothing of whose they are
                if needle in text:
                    foreign.append(f"{key}'s export holds {other}'s {label} #{pk}.{name}: {needle!r}")
    assert not missing, "registered values missing from their owner's export:\n" + "\n".join(missing)
    assert not foreign, "\n".join(foreign)


@pytest.mark.django_db
def test_the_export_gives_the_address_of_each_private_file(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['buyer_alice']}")
    problems = client.get("/api/v1/me/export/").json()["personal_data"]["orders.problem"]
    with_photo = [p for p in problems if p["photo"]]
    assert len(problems) == 2 and len(with_photo) == 1
    download = client.get(with_photo[0]["photo"]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"\xff\xd8"
    # Someone else's file by the same address: nothing.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['buyer_bob']}")
    assert other.get(with_photo[0]["photo"]["url"]).status_code == 404


def _storage_of(label, name):
    record = next(r for r in personal_data_records() if r.label == label)
    return record.model._meta.get_field(name).storage


@pytest.mark.django_db
@pytest.mark.parametrize("leaving", ["buyer_alice", "farmer_alice", "courier_alice", "official_alice"])
def test_deletion_wipes_every_registered_value_and_nobody_elses(world, leaving):
    from rest_framework.test import APIClient

    user = world.users[leaving]
    before = _values(user)
    others = {key: _values(u) for key, u in world.users.items() if key != leaving}
    assert before
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[leaving]}")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    records = {r.label: r for r in personal_data_records()}
    left = []
    for (label, pk, name), (spec, value) in before.items():
        record = records[label]
        row = record.model._default_manager.filter(pk=pk).first()
        if spec.kind == Kind.FILE and spec.must_go and _storage_of(label, name).exists(value):
            left.append(f"{label} #{pk}.{name}: the file {value} is still stored")
        if row is None:
            assert record.delete_rows, f"{label} #{pk}: a kept record was deleted"
            continue
        assert not record.delete_rows, f"{label} #{pk}: still there"
        now = getattr(row, name)
        now = now.name if isinstance(now, models.fields.files.FieldFile) else now
        if spec.must_go and now == value:
            left.append(f"{label} #{pk}.{name}: {value!r}")
        if not spec.must_go:
            assert now == value, f"{label} #{pk}.{name} is kept by the registry ({spec.why})"
    assert not left, f"{leaving} deleted, and still held:\n" + "\n".join(left)
    # Everyone else's data is untouched, files included, but for rows that were the leaver's too
    # (a household's note on the leaving buyer's order is on the buyer's order).
    shared = {(records[label].model, pk) for label, pk, _name in before}
    for key, theirs in others.items():
        now = _values(world.users[key])
        for (label, pk, name), (spec, value) in theirs.items():
            if (records[label].model, pk) in shared:
                continue
            assert now.get((label, pk, name)) == (spec, value), f"{key}'s {label} #{pk}.{name} changed"
            if spec.kind == Kind.FILE:
                assert _storage_of(label, name).exists(value), f"{key}'s {label}.{name} was deleted"


@pytest.mark.django_db
def test_rows_kept_by_phone_are_found_with_the_phone_the_account_had(make_user):
    """The login lock's records and queued tasks carry a phone, not an account: the eraser finds
    them by the `former_phone` that `user_anonymised` carries (the account's phone is gone by then)."""
    from axes.models import AccessAttempt, AccessLog

    from marketplace.accounts.hooks import user_anonymised
    from marketplace.outbox.models import OutboxMessage

    lan, other = make_user(phone="0912345678"), make_user(phone="0912345699")
    for phone in (lan.phone, other.phone):
        AccessLog.objects.create(
            username=phone, ip_address="203.0.113.9", user_agent="Firefox", http_accept="*/*"
        )
        AccessAttempt.objects.create(
            username=phone,
            ip_address="203.0.113.9",
            user_agent="Firefox",
            http_accept="*/*",
            get_data="",
            post_data="username=***",
            failures_since_start=1,
        )
        OutboxMessage.objects.create(task="accounts.send_password_reset", args=[phone])
    former = lan.phone
    lan.phone = f"deleted:{lan.pk}"
    lan.save(update_fields=["phone"])
    user_anonymised.send(sender=User, user=lan, former_phone=former)
    assert not AccessLog.objects.filter(username=former).exists()
    assert not AccessAttempt.objects.filter(username=former).exists()
    assert not OutboxMessage.objects.filter(args__icontains="912345678").exists()
    # The other person's records stay.
    assert AccessLog.objects.filter(username=other.phone).count() == 1
    assert AccessAttempt.objects.filter(username=other.phone).count() == 1
    assert OutboxMessage.objects.filter(task="accounts.send_password_reset").count() == 1
