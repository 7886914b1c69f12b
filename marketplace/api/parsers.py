"""The API's JSON parser: a body too deep or too large is a 400 or a 413, never a 500.

DRF's own parser hands `json.load` whatever arrives: twenty thousand `[` make the C scanner
raise `RecursionError`, which DRF lets through as a 500 — to anyone, before authentication
matters. This parser answers such a body `400 {"detail", "code": "parse_error"}`, refuses
nesting deeper than `MAX_DEPTH` (no operation reads more than a few levels) and refuses a body
larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` with 413 (Django enforces the same limit on the
`request.body` DRF reads first; `marketplace.api.exceptions` answers that one 413 too).
"""

import codecs

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json

# Deeper than any operation's input (a checkout is 2 levels, `actual_quantities` 2): room to grow.
MAX_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    """413: the body is larger than the API reads."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int | None = None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
        detail = gettext("The request body is too large: send at most %(size)s.") % {
            "size": filesizeformat(limit)
        }
        super().__init__(detail, self.default_code)


def too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(
        gettext("The JSON body is nested too deeply: at most %(depth)s levels.") % {"depth": MAX_DEPTH}
    )


def json_depth_exceeds(value, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` (parsed JSON) nests lists and objects more than `limit` levels deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with limits on size and depth; every refusal is a 4xx."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(limit)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise too_deep() from None
        except (ValueError, LookupError) as exc:
            raise exceptions.ParseError(gettext("JSON parse error - %(error)s") % {"error": exc}) from None
        if json_depth_exceeds(data):
            raise too_deep()
        return data
