"""Admin pieces every app uses."""


class ReadOnlyAdminMixin:
    """Show rows without letting anyone add, change or delete them (they change through services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
