from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from marketplace.admin import ReadOnlyAdminMixin

from .models import CashHandover, Run, Shipment, ShipmentEvent, Zone, ZoneWard
from .selectors import courier_cash
from .services import cash_handover_check, cash_handover_record


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
    filter_horizontal = ["couriers"]
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
        "label",
        "carrier",
        "status",
        "pickup_ward",
        "dropoff_ward",
        "cash_to_collect",
        "run",
        "created_at",
    ]
    list_filter = ["status", "carrier", "run__date"]
    list_select_related = ["pickup_ward", "dropoff_ward"]
    search_fields = ["reference", "label"]  # staff find a parcel by its order number too
    inlines = [ShipmentEventInline]


class RunShipmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Shipment
    extra = 0
    fields = [
        "reference",
        "label",
        "status",
        "pickup_name",
        "dropoff_ward",
        "weight_kg",
        "cash_to_collect",
        "cash_collected",
    ]
    readonly_fields = fields
    show_change_link = True


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Runs are built by `build_collection_runs`; staff may (re)assign the courier here."""

    list_display = ["date", "zone", "number", "courier", "shipment_count", "assigned_at"]
    list_filter = ["date", "zone"]
    list_select_related = ["zone", "courier"]
    fields = ["zone", "date", "number", "courier", "assigned_at"]
    readonly_fields = ["zone", "date", "number", "assigned_at"]
    inlines = [RunShipmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(shipment_count=Count("shipments"))

    @admin.display(description=_("shipments"), ordering="shipment_count")
    def shipment_count(self, run):
        return run.shipment_count

    def has_add_permission(self, request):
        return False


class CashHandoverForm(forms.ModelForm):
    class Meta:
        model = CashHandover
        fields = ["courier", "amount", "note"]

    def clean(self):
        data = super().clean()
        courier, amount = data.get("courier"), data.get("amount")
        if courier is not None and amount is not None:
            cash_handover_check(courier=courier, amount=amount)
        return data


@admin.register(CashHandover)
class CashHandoverAdmin(admin.ModelAdmin):
    """Record cash a courier hands in (at most what it holds); it cannot be edited afterwards."""

    form = CashHandoverForm
    list_display = ["at", "courier", "amount", "received_by", "note"]
    list_filter = ["courier"]
    list_select_related = ["courier", "received_by"]
    raw_id_fields = ["courier"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as exc:
            # Another handover for the same courier was recorded while this form was open.
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        obj.pk = cash_handover_record(
            courier=obj.courier, amount=obj.amount, by=request.user, note=obj.note
        ).pk
        messages.info(
            request,
            _("%(courier)s still holds %(amount)s đồng.")
            % {"courier": obj.courier, "amount": courier_cash(obj.courier)["holding"]},
        )
