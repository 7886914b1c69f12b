"""The database the site runs on: PostgreSQL through psycopg 3, or SQLite set up for concurrency."""
import io
import threading
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper


@pytest.mark.postgres
def test_postgresql_is_reached_through_psycopg_3(db):
    assert connection.vendor == "postgresql"
    assert connection.Database.__name__ == "psycopg"
    assert connection.Database.__version__.startswith("3.")


@pytest.fixture
def sqlite(django_db_blocker):
    """Open Django SQLite connections with the settings' options on a scratch file."""
    opened = []
    with django_db_blocker.unblock():
        def open_at(path):
            opened.append(_sqlite(path))
            return opened[-1]

        yield open_at
        for wrapper in opened:
            wrapper.close()


def _sqlite(path):
    wrapper = SQLiteWrapper(
        {**settings.DATABASES["default"], "ENGINE": "django.db.backends.sqlite3",
         "NAME": str(path), "OPTIONS": settings.SQLITE_OPTIONS, "TEST": {}, "TIME_ZONE": None,
         "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False},
        alias="sqlite-check",
    )
    wrapper.ensure_connection()
    return wrapper


def test_sqlite_default_uses_wal_and_a_busy_timeout(sqlite, tmp_path):
    wrapper = sqlite(tmp_path / "check.sqlite3")
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == settings.SQLITE_OPTIONS["timeout"] * 1000
    assert wrapper.transaction_mode == "IMMEDIATE"


def test_sqlite_second_writer_waits_for_the_first_instead_of_failing(sqlite, tmp_path):
    path = tmp_path / "writers.sqlite3"
    first = sqlite(path)
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE stock (qty INTEGER)")
        cursor.execute("INSERT INTO stock VALUES (10)")
    finished = []

    def take_two():
        second = _sqlite(path)  # a connection belongs to the thread that opens it
        try:
            # BEGIN IMMEDIATE blocks here until the first writer commits, then succeeds.
            second.set_autocommit(False)
            with second.cursor() as cursor:
                cursor.execute("UPDATE stock SET qty = qty - 2")
            second.commit()
            finished.append(time.monotonic())
        finally:
            second.close()

    first.set_autocommit(False)
    with first.cursor() as cursor:
        cursor.execute("UPDATE stock SET qty = qty - 3")
        thread = threading.Thread(target=take_two)
        thread.start()
        time.sleep(0.3)
        assert finished == []  # still waiting on the first writer's lock
        released = time.monotonic()
        first.commit()
    first.set_autocommit(True)
    thread.join(timeout=10)
    assert finished and finished[0] >= released
    with first.cursor() as cursor:
        cursor.execute("SELECT qty FROM stock")
        assert cursor.fetchone()[0] == 5


def test_models_and_migrations_agree(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
