"""The citizen ID (CCCD) registered through the API appears in no response and no log line."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farms.models import Farm
from marketplace.accounts.models import Role

from .factories import jpeg_upload, make_product, ward

pytestmark = pytest.mark.django_db

# A valid CCCD: Cần Thơ (092), a man born in 1985 (0, 85), six serial digits.
CCCD = "092085731946"
# Valid shape, unknown province: refused with a 400 that must not echo it either.
BAD_CCCD = "099085731946"


def fragments(number: str, shortest: int = 8) -> set[str]:
    """Return every run of `shortest` or more consecutive digits of `number`."""
    return {
        number[start:end] for start in range(len(number)) for end in range(start + shortest, len(number) + 1)
    }


FORBIDDEN = fragments(CCCD) | fragments(BAD_CCCD)


def keys(data) -> set[str]:
    """Return every key of a JSON document, at any depth."""
    if isinstance(data, dict):
        return set(data).union(*(keys(value) for value in data.values()))
    if isinstance(data, list):
        return set().union(*(keys(value) for value in data))
    return set()


def assert_clean(text: str, where: str) -> None:
    leaked = sorted(fragment for fragment in FORBIDDEN if fragment in text)
    assert not leaked, f"citizen ID digits {leaked} in {where}"


def test_a_registered_cccd_appears_in_no_response_and_no_log(make_user, api, api_as, caplog):
    farmer = make_user(Role.FARMER, full_name="Nguyễn Văn Tư")
    official = make_user(Role.OFFICIAL, wards=[ward(0)], city_wide=False)
    other_farmer = make_user(Role.FARMER)
    owner, checker = api_as(farmer), api_as(official)
    responses = []

    def call(client, method, url, *args, **kwargs):
        response = getattr(client, method)(url, *args, **kwargs)
        responses.append((f"{method.upper()} {url} → {response.status_code}", response))
        return response

    registration = {
        "name": "Hộ ông Tư",
        "representative_name": "Nguyễn Văn Tư",
        "phone": "0912 345 678",
        "ward": ward(0).code,
        "address": "Ấp Nhơn Lộc 1",
        "area_m2": 5000,
        "main_crops": "măng cụt",
        "cccd": CCCD,
    }
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own default is INFO
    # Capturing queries makes Django log every SQL statement with its parameters at DEBUG.
    with CaptureQueriesContext(connection) as queries:
        bad = call(api_as(other_farmer), "post", "/api/v1/farms/", {**registration, "cccd": BAD_CCCD})
        assert bad.status_code == 400 and list(bad.json()) == ["cccd"]
        letters = call(api_as(other_farmer), "post", "/api/v1/farms/", {**registration, "cccd": CCCD + "x"})
        assert letters.status_code == 400 and "cccd" in letters.json()

        created = call(owner, "post", "/api/v1/farms/", registration)
        assert created.status_code == 201
        farm_id = created.json()["id"]
        assert created.json()["cccd_last4"] == CCCD[-4:]

        duplicate = call(api_as(other_farmer), "post", "/api/v1/farms/", registration)
        assert duplicate.status_code == 409 and duplicate.json()["code"] == "cccd_in_use"

        call(owner, "get", f"/api/v1/farms/{farm_id}/")
        call(owner, "get", "/api/v1/my/farm/")
        call(owner, "patch", f"/api/v1/farms/{farm_id}/", {"main_crops": "măng cụt, chôm chôm"})
        # Re-sending the same number in an edit changes nothing visible and leaks nothing.
        call(owner, "patch", f"/api/v1/farms/{farm_id}/", {"cccd": CCCD})
        call(checker, "get", "/api/v1/farms/queue/")
        call(checker, "get", f"/api/v1/farms/{farm_id}/")
        verified = call(checker, "post", f"/api/v1/farms/{farm_id}/verify/", {"decision": "approve"})
        assert verified.status_code == 200
        call(api, "get", "/api/v1/farms/")
        call(api, "get", f"/api/v1/farms/{farm_id}/")
        product = make_product(Farm.objects.get(pk=farm_id), status="active")
        call(
            owner,
            "post",
            f"/api/v1/products/{product.pk}/images/",
            {"image": jpeg_upload()},
            format="multipart",
        )
        call(api, "get", "/api/v1/products/")
        call(api, "get", f"/api/v1/products/{product.pk}/")
        call(owner, "get", "/api/v1/my/products/")
        call(owner, "get", "/api/v1/notifications/")
        exported = call(owner, "get", "/api/v1/me/export/")
        assert exported.json()["farm"]["cccd_last4"] == CCCD[-4:]

    # Every call was answered (a 500 would hide a leak behind an error page).
    assert all(response.status_code < 500 for _label, response in responses)
    assert len(responses) == 19
    for label, response in responses:
        assert_clean(response.content.decode(), label)
        if response.status_code < 300 and response.content:
            assert "cccd" not in keys(response.json()), label

    # The capture is real: it holds the SQL that stored the household, parameters included.
    sql_lines = [r.getMessage() for r in caplog.records if r.name == "django.db.backends"]
    assert any("INSERT INTO" in line and "farms_farm" in line for line in sql_lines)
    assert any(CCCD[-4:] in line for line in sql_lines)  # the last four digits are stored, visibly
    for record in caplog.records:
        assert_clean(record.getMessage(), f"log record {record.name}")
    assert_clean(caplog.text, "captured log text")
    for query in queries.captured_queries:
        assert_clean(query["sql"], "SQL")

    # Nor is it kept in the database in any readable form.
    farm = Farm.objects.get(pk=farm_id)
    stored = " ".join(str(value) for value in Farm.objects.filter(pk=farm_id).values().first().values())
    assert_clean(stored, "the farms_farm row")
    assert farm.cccd_hash and farm.cccd_last4 == CCCD[-4:]
