"""Uncaught errors: a lost database connection is a 503 that says nothing was saved; others a 500.

The whole path (a connection terminated during a real checkout on gunicorn) is in
tests/orders/test_faults.py; these check each kind of answer, page and API, in both languages.
"""

import json

import pytest
from django.db import InterfaceError, OperationalError
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


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("gone")])
def test_a_lost_connection_on_a_page_is_a_503_page_in_vietnamese(error):
    response = answer("/thanh-toan/", error)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert "chưa có gì được lưu" in page and "vẫn còn trong biểu mẫu" in page


def test_a_lost_connection_in_the_api_is_a_503_with_a_code_in_english_when_asked():
    response = answer("/api/v1/checkout/", OperationalError("terminating connection"), language="en")
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "detail": "The service is briefly unavailable: nothing was saved. Try again in a moment.",
        "code": "service_unavailable",
    }


def test_any_other_error_stays_a_500_json_in_the_api_and_the_page_elsewhere():
    api = answer("/api/v1/orders/", ValueError("a bug"))
    assert api.status_code == 500
    assert json.loads(api.content) == {"detail": "Đã có lỗi từ phía chúng tôi.", "code": "server_error"}
    page = answer("/don-hang/", ValueError("a bug"))
    assert page.status_code == 500 and "Something went wrong" in page.content.decode()
