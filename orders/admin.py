"""Admin for staff looking into carts and orders. Everything changes through the services, not by hand.

Order and farm-order statuses move only through `orders.services` transitions, so these pages are
read-only.
"""

from django.contrib import admin

from .models import Cart, CartLine, FarmOrder, Order, OrderLine, StatusChange


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


class ReadOnlyAdminMixin:
    """Show rows without letting anyone add, change or delete them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FarmOrderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FarmOrder
    extra = 0
    fields = ["farm", "status", "subtotal", "created_at", "updated_at"]
    readonly_fields = fields
    show_change_link = True


class StatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusChange
    extra = 0
    fields = ["at", "farm_order", "from_status", "to_status", "by", "note"]
    readonly_fields = fields


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["product", "product_name", "unit", "unit_price", "quantity", "line_total", "stock_returned_at"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "buyer", "status", "payment_status", "payment_method", "total", "created_at"]
    list_filter = ["status", "payment_status", "payment_method"]
    list_select_related = ["buyer"]
    search_fields = ["number", "buyer__phone", "delivery_phone"]
    date_hierarchy = "created_at"
    inlines = [FarmOrderInline, StatusChangeInline]


@admin.register(FarmOrder)
class FarmOrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "order", "farm", "status", "subtotal", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order", "farm"]
    search_fields = ["order__number", "farm__name"]
    inlines = [OrderLineInline]
