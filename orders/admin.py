"""Admin for staff looking into carts. Lines change through the cart services, not by hand."""

from django.contrib import admin

from .models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["product", "quantity", "seen_price", "created_at", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "session_key", "created_at", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__phone", "user__full_name"]
    readonly_fields = ["user", "session_key", "created_at", "updated_at"]
    inlines = [CartLineInline]
