"""API conventions shared by every app: pagination, errors, input parsing."""


def validated(serializer_class, request, **kwargs) -> dict:
    """Parse `request.data` with `serializer_class`; invalid input raises DRF's 400."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
