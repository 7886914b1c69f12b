"""Path converters: `<id:pk>` is an object id that fits the database's 64-bit integers."""

from django.urls import register_converter


class IdConverter:
    """Digits, at most 18 of them: a longer number is no id (404) rather than a database overflow.

    Django's `int` converter takes any number of digits; SQLite refuses to bind one above 2**63 - 1
    as a query parameter and the request failed with a server error.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
