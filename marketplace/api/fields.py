"""Ids in request bodies, resolved like ids in URLs (docs/api.md, "Ids in bodies").

An id in a URL that names something the user may not see is a 404: the view looks it up
through a selector that takes the user. An id in a body must answer the same, or the body
becomes the side door: `POST cart/items/ {"product": <someone's draft>}` once answered 409 with
the draft's name while `GET products/<id>/` said 404. `VisibleIdField` looks the id up through
such a selector and answers 404 `not_found` — the same answer as for an id that names nothing —
for anything outside it. What the user may see but may not use here (their own draft in the
cart) is the service's answer (400/409), which may name it: it is theirs.

Ids that only name a part of the URL's object (a line of *this* order, a photo of *this*
listing) are checked against that object by the service, which answers every other id — no
such id, someone else's, one's own elsewhere — with one 400 on the field; that answer says
nothing about the id either.
"""

from collections.abc import Callable

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

#: The largest id the site has (18 digits, as `<id:…>` in URLs); a larger one names nothing.
MAX_ID = 999_999_999_999_999_999


@extend_schema_field(OpenApiTypes.INT)
class VisibleIdField(serializers.PrimaryKeyRelatedField):
    """An object's id, looked up among what `visible(user=…)` lets the requesting user see.

    Answers the object. A malformed id (not a whole number) is a 400 on the field; an id the
    user may not see, or that names nothing, raises NotFound (404 `not_found`, no name, no state).
    """

    default_error_messages = {
        "incorrect_type": _("Enter a whole number."),
        "does_not_exist": _("Not found."),  # never shown: the field answers 404 instead
    }

    def __init__(self, *, visible: Callable[..., QuerySet], **kwargs):
        self.visible = visible
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")  # absent while the schema is generated
        return self.visible(user=getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        text = str(data).strip()
        if not (text.isascii() and text.isdigit()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        pk = int(text)
        found = self.get_queryset().filter(pk=pk).first() if pk <= MAX_ID else None
        if found is None:
            raise exceptions.NotFound()
        return found


def body_id_fields(serializer) -> list[str]:
    """Names (dotted for nested input) of the `VisibleIdField`s of a serializer, for the schema."""
    if isinstance(serializer, type) and issubclass(serializer, serializers.BaseSerializer):
        serializer = serializer()
    if not isinstance(serializer, serializers.Serializer):
        return []  # no serializer, or one the schema describes otherwise
    found = []
    fields = serializer.fields
    for name, field in fields.items():
        if getattr(field, "read_only", False):
            continue
        target = getattr(field, "child_relation", None) or getattr(field, "child", None) or field
        if isinstance(target, VisibleIdField):
            found.append(name)
        elif isinstance(target, serializers.Serializer):
            found += [f"{name}.{inner}" for inner in body_id_fields(target)]
    return found
