from django.contrib import admin

from marketplace.admin import ReadOnlyAdminMixin

from .models import Shipment, ShipmentEvent, Zone, ZoneWard


class ZoneWardInline(admin.TabularInline):
    """The zone's route: its wards in the order a courier visits them (edit `position`)."""

    model = ZoneWard
    extra = 0
    fields = ["position", "ward"]
    raw_id_fields = ["ward"]
    ordering = ["position", "ward"]


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "base_fee", "included_kg", "per_kg_fee", "free_over", "position", "updated_at"]
    list_editable = ["base_fee", "included_kg", "per_kg_fee", "free_over", "position"]
    inlines = [ZoneWardInline]


@admin.register(ZoneWard)
class ZoneWardAdmin(admin.ModelAdmin):
    """Move a ward to another zone here (each ward is in exactly one)."""

    list_display = ["ward", "zone", "position"]
    list_filter = ["zone"]
    list_editable = ["zone", "position"]
    list_select_related = ["ward", "zone"]
    search_fields = ["ward__name", "ward__code"]

    def has_add_permission(self, request):
        return False  # every ward has its row from the seed; move it, never add a second

    def has_delete_permission(self, request, obj=None):
        return False  # a ward without a zone would fall back to the default tariff


class ShipmentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ShipmentEvent
    extra = 0
    fields = ["at", "type", "by", "cash_collected", "note"]
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shipments move only by their steps (`logistics.services.shipment_step`): read-only here."""

    list_display = [
        "reference",
        "carrier",
        "status",
        "pickup_ward",
        "dropoff_ward",
        "cash_to_collect",
        "created_at",
    ]
    list_filter = ["status", "carrier"]
    list_select_related = ["pickup_ward", "dropoff_ward"]
    search_fields = ["reference"]
    inlines = [ShipmentEventInline]
