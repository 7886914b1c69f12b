from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: staff see what is pending and why; the relay is what publishes."""

    list_display = ("id", "task", "created_at", "sent_at", "attempts", "runs", "last_error")
    list_filter = ("task",)
    search_fields = ("task", "task_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
