"""Vietnamese first, English second; money as 125.000 ₫; dates as dd/mm/yyyy."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from marketplace.money import format_vnd

# --- Language --------------------------------------------------------------------------


def test_pages_are_vietnamese_by_default(client, db):
    response = client.get("/")
    assert '<html lang="vi">' in response.content.decode()
    assert response["Content-Language"] == "vi"


def test_language_switch_to_english_sticks(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies["cho_noi_language"].value == "en"

    page = client.get("/")
    assert '<html lang="en">' in page.content.decode()
    assert page["Content-Language"] == "en"


def test_language_switch_back_to_vietnamese(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/i18n/setlang/", {"language": "vi", "next": "/"})
    assert '<html lang="vi">' in client.get("/").content.decode()


def test_the_chosen_language_wins_over_the_browser_language(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="vi")
    assert '<html lang="en">' in page.content.decode()


def test_pages_ignore_the_browser_language_until_the_visitor_chooses(client, db):
    # Many phones in Cần Thơ are set to English while their owners read Vietnamese.
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="vi">' in page.content.decode()


def test_api_errors_follow_the_clients_accept_language(api, db):
    data = {"phone": "0292 3812 345", "password": "x", "full_name": "A", "role": "buyer"}
    english = api.post("/api/v1/auth/register/", data, HTTP_ACCEPT_LANGUAGE="en").json()["phone"][0]
    vietnamese = api.post("/api/v1/auth/register/", data).json()["phone"][0]
    assert "Vietnamese mobile number" in english
    assert vietnamese != english


def test_an_unknown_language_is_ignored(client, db):
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert '<html lang="vi">' in client.get("/").content.decode()


def test_language_switch_does_not_redirect_off_site(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_the_english_page_is_really_translated(client, db):
    vietnamese = client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    assert "Log in" in english
    assert "Log in" not in vietnamese


# --- Money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (125000, "125.000 ₫"),
        (0, "0 ₫"),
        (999, "999 ₫"),
        (1000, "1.000 ₫"),
        (1_000_000_000, "1.000.000.000 ₫"),
        (-50000, "-50.000 ₫"),
        ("23000", "23.000 ₫"),
    ],
)
def test_format_vnd(amount, text):
    assert format_vnd(amount) == text


def test_format_vnd_of_nothing_is_empty():
    assert format_vnd(None) == ""


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_vnd_template_filter():
    assert render("{% load money %}{{ price|vnd }}", price=45000) == "45.000 ₫"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_vnd_is_written_the_vietnamese_way_in_both_languages(language):
    with translation.override(language):
        assert render("{% load money %}{{ price|vnd }}", price=1250000) == "1.250.000 ₫"


# --- Dates -------------------------------------------------------------------------------


def test_short_dates_are_day_first_in_vietnamese():
    with translation.override("vi"):
        text = render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=datetime.date(2026, 3, 5))
    assert text == "05/03/2026"


def test_short_dates_are_day_first_in_english_too():
    with translation.override("en"):
        text = render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=datetime.date(2026, 3, 5))
    assert text == "05/03/2026"


def test_datetimes_show_local_time_then_date():
    moment = datetime.datetime(2026, 3, 5, 1, 30, tzinfo=datetime.UTC)  # 08:30 in Cần Thơ
    with translation.override("vi"):
        text = render('{{ t|date:"SHORT_DATETIME_FORMAT" }}', t=moment)
    assert text == "08:30 05/03/2026"


def test_vietnamese_numbers_use_a_dot_for_thousands(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("vi"):
        assert render("{% load l10n %}{{ n|localize }}", n=1234567) == "1.234.567"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("1.5", "2 ₫"), ("1.4", "1 ₫"), ("-1.5", "-2 ₫"), ("125000.00", "125.000 ₫")],
)
def test_format_vnd_rounds_a_fraction_to_whole_dong(amount, expected):
    from decimal import Decimal

    assert format_vnd(Decimal(amount)) == expected
