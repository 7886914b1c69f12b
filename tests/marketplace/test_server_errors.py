"""Uncaught errors: a lost database connection is a 503 that says nothing was saved; others a 500.

The whole path (a connection terminated during a real checkout on gunicorn) is in
tests/orders/test_faults.py; these check each kind of answer, page and API, in both languages.
"""

import json

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import RequestFactory
from django.utils import translation

from marketplace.views import server_error


def answer(path: str, error: Exception, language: str = "vi"):
    request = RequestFactory().get(path)
    with translation.override(language):
        try:
            raise error
        except Exception:
            return server_error(request)


class DriverError(Exception):
    """psycopg's error as Django wraps it (`__cause__`), with the server's SQLSTATE."""

    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def wrapped(sqlstate: str) -> OperationalError:
    try:
        raise OperationalError("the database said no") from DriverError(sqlstate)
    except OperationalError as error:
        return error


@pytest.mark.parametrize("error", [wrapped("57P01"), wrapped("08006"), InterfaceError("already closed")])
def test_a_lost_connection_on_a_page_is_a_503_page_in_vietnamese(error):
    response = answer("/thanh-toan/", error)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert "vẫn còn trong biểu mẫu" in page and "xem lại đơn hàng" in page


def test_a_lost_connection_in_the_api_is_a_503_with_a_code_in_english_when_asked():
    response = answer("/api/v1/checkout/", wrapped("57P01"), language="en")
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "detail": "The service is briefly unavailable. Try again in a moment; if you were placing an "
        "order, check your orders first.",
        "code": "service_unavailable",
    }


@pytest.mark.parametrize(
    "error",
    [wrapped("40P01"), wrapped("57014"), wrapped("42P01"), OperationalError("no such column: x")],
    ids=["deadlock", "statement timeout", "missing table", "no code: sqlite's no such column"],
)
def test_a_query_that_fails_on_a_live_connection_stays_a_500(error, db):
    connection.ensure_connection()  # live, as it is when a query was just refused
    response = answer("/api/v1/orders/", error)
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"


def test_any_other_error_stays_a_500_json_in_the_api_and_the_page_elsewhere():
    api = answer("/api/v1/orders/", ValueError("a bug"))
    assert api.status_code == 500
    assert json.loads(api.content) == {"detail": "Đã có lỗi từ phía chúng tôi.", "code": "server_error"}
    page = answer("/don-hang/", ValueError("a bug"))
    assert page.status_code == 500 and "Something went wrong" in page.content.decode()
