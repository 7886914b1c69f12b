"""The citizen ID (CCCD): validated, stored only as a keyed hash and the last four digits."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from farms.cccd import cccd_clean, cccd_hash
from farms.models import Farm

from .factories import make_farm

CCCD = "092085123456"


@pytest.mark.parametrize("raw", ["092085123456", "092 085 123 456", "092.085.123.456", " 092085123456 "])
def test_common_spellings_are_one_number(raw):
    assert cccd_clean(raw) == CCCD


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("09208512345", "12 digits"),
        ("0920851234567", "12 digits"),
        ("09208512345a", "12 digits"),
        ("", "12 digits"),
        ("003085123456", "first three digits"),  # 003 is no province code
        ("092299123456", "digits 4 to 6"),  # born in 2099
    ],
)
def test_invalid_numbers_get_a_message_without_the_number(raw, words, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        cccd_clean(raw)
    message = " ".join(refused.value.messages)
    assert words in message
    assert not raw.strip() or raw.strip() not in message


def test_the_hash_is_keyed(settings):
    first = cccd_hash(CCCD)
    assert first == cccd_hash(CCCD) and len(first) == 64
    settings.CCCD_HASH_KEY = "another-key"
    assert cccd_hash(CCCD) != first


@pytest.mark.django_db
def test_the_number_is_stored_nowhere(make_user, caplog):
    caplog.set_level("DEBUG")
    farm = make_farm(make_user, cccd=CCCD)
    assert (farm.cccd_last4, len(farm.cccd_hash)) == ("3456", 64)
    # Read every column of every farms table as the database holds it.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if not table.startswith("farms_"):
                continue
            cursor.execute(f"SELECT * FROM {table}")  # table names come from the schema
            for row in cursor.fetchall():
                assert not any(CCCD[:8] in str(value) or CCCD[4:] in str(value) for value in row), table
    assert CCCD not in caplog.text and CCCD[4:] not in caplog.text
    assert Farm.objects.filter(cccd_hash=cccd_hash(CCCD)).count() == 1
