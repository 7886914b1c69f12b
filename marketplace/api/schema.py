"""The OpenAPI schema's error answers, written once for every operation (docs/api.md, "Status codes").

drf-spectacular documents what a view's annotations name. The answers every endpoint can give
by convention — 400 with field messages, 401 with `WWW-Authenticate: Token`, 403 for a role
that may not use it, 404 for an object that is not yours (named in the path or in the body),
413 for a JSON body too large, 415 for a body in a format the operation does not read, 429 with
`Retry-After` — follow here
from what the view declares (parameters, body, authentication, permissions, rate limits), so
the schema says what the API answers and a client (or the fuzzer) can rely on it. A view's own
annotation of a code keeps its description and body; one without a body gets the shared one.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly

from .fields import body_id_fields

# Permissions that turn nobody signed in away with 401 and never answer 403 themselves.
_SIGN_IN_ONLY = (AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly)
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ApiErrorSerializer(serializers.Serializer):
    """`{detail, code}`; a 409 may add keys naming what conflicts."""

    detail = serializers.CharField()
    code = serializers.CharField()


# DRF's 400: field names (or `non_field_errors`) to lists of messages; nested input nests them.
# A body that cannot be parsed at all is answered `{detail, code: "parse_error"}` instead.
VALIDATION_ERRORS = {
    "type": "object",
    "description": "Field messages: `{field: [message, …]}`, nested for nested input.",
    "minProperties": 1,
    "additionalProperties": {"oneOf": [{"type": "array"}, {"type": "object"}]},
}

_DESCRIPTIONS = {
    "400": "Invalid input: field messages.",
    "401": "No credentials, or a bad token.",
    "403": "Your role may not use this endpoint.",
    "404": "Not yours, or no such object (or page); the same for an id in the body.",
    "413": "The JSON body is larger than the API reads (`DATA_UPLOAD_MAX_MEMORY_SIZE`).",
    "415": "A body in a format this operation does not read (see its request body's content types).",
    "429": "Too many attempts: wait `Retry-After` seconds.",
}
_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "required": True,
            "description": "`Token`: send `Authorization: Token <token>`.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "string"},
            "required": True,
            "description": "Seconds to wait.",
        }
    },
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the conventional error answers of each operation."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.startswith("4"):
                self._complete_error(code, response)
        return operation

    def _error_codes(self, operation) -> list[str]:
        parameters = operation.get("parameters", [])
        codes = []
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if self.view.authentication_classes:
            # A bad token is refused on every endpoint that reads tokens, open ones included.
            codes.append("401")
        if any(not issubclass(p, _SIGN_IN_ONLY) for p in self._permission_classes()):
            codes.append("403")
        if (
            any(p["in"] == "path" for p in parameters)
            or any(p["name"] == "page" for p in parameters)
            or ("requestBody" in operation and body_id_fields(self.get_request_serializer()))
        ):
            # An id in the body resolves like one in the path (marketplace/api/fields.py).
            codes.append("404")
        if "requestBody" in operation:
            if "application/json" in operation["requestBody"].get("content", {}):
                codes.append("413")
            codes.append("415")
        if self.view.throttle_classes and self.method in _WRITES:
            codes.append("429")
        return codes

    def _permission_classes(self) -> list[type]:
        return [type(permission) for permission in self.view.get_permissions()]

    def _complete_error(self, code: str, response: dict) -> None:
        if "content" not in response:
            error = self.resolve_serializer(ApiErrorSerializer, "response").ref
            schema = {"oneOf": [error, VALIDATION_ERRORS]} if code == "400" else error
            response["content"] = {"application/json": {"schema": schema}}
        for name, header in _HEADERS.get(code, {}).items():
            response.setdefault("headers", {}).setdefault(name, header)
