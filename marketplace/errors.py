"""Errors services raise that every front end (API, pages) answers the same way."""


class Conflict(Exception):
    """Valid input that the current state forbids (stock, status): the API answers 409.

    `code` is a stable machine-readable word; `extra` names what conflicts (a field, lines).
    """

    def __init__(self, message, *, code: str = "conflict", **extra):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra

    def __str__(self):
        return str(self.message)
