from rest_framework.permissions import BasePermission


def role_permission(*roles):
    """Return a DRF permission class that admits only users of `roles` (others get 403)."""

    class HasRole(BasePermission):
        message = "Your role may not use this endpoint."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.role in roles)

    HasRole.__name__ = "HasRole_" + "_".join(str(r) for r in roles)
    return HasRole
