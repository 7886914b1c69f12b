"""API errors in one shape: DRF's field messages for 400, `{detail, code, …}` for the rest."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from marketplace import errors
from marketplace.throttling import too_many_attempts_message

from .parsers import RequestTooLarge


class Conflict(exceptions.APIException):
    """409: the request is valid but the current state (stock, status) forbids it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail, code)
        self.extra = extra


def exception_handler(exc, context):
    # Services raise Django's ValidationError; the API answers it as DRF's 400.
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        # get_object_or_404 in a view: the API's 404 with its code, and no model name in it.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE as DRF reads it: the API's 413.
        exc = RequestTooLarge()
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, errors.Conflict):
        exc = Conflict(str(exc.message), exc.code, **exc.extra)
    elif isinstance(exc, exceptions.Throttled):
        # The pages' message (how long to wait, in the request's language); Retry-After from `wait`.
        wait = exc.wait
        exc = exceptions.Throttled(detail=too_many_attempts_message(wait))
        exc.wait = wait
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(exc, "get_codes", lambda: None)()
        if isinstance(code, str):
            response.data.setdefault("code", code)
    if isinstance(exc, Conflict):
        response.data.update(exc.extra)
    return response
