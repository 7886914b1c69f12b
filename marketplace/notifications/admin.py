from django.contrib import admin

from .models import Delivery, Notification


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ["channel", "sent_at", "error"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "user", "channels", "created_at", "read_at"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    inlines = [DeliveryInline]
