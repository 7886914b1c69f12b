"""API conventions shared by every app: pagination, errors, input parsing."""


def validated(serializer_class, request, **kwargs) -> dict:
    """Parse `request.data` with `serializer_class`; invalid input raises DRF's 400.

    The serializer's context holds the request, so ids in the body resolve through what its user
    may see (`marketplace.api.fields.VisibleIdField`: 404 for anything else).
    """
    context = {"request": request, **kwargs.pop("context", {})}
    serializer = serializer_class(data=request.data, context=context, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
