from django.contrib import admin

from .models import Ward, WardAlias


class ReadMostlyAdmin(admin.ModelAdmin):
    """Rows come from the data migration: staff may correct them, never add or delete."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Ward)
class WardAdmin(ReadMostlyAdmin):
    list_display = ["code", "name", "type"]
    list_filter = ["type"]
    search_fields = ["code", "name", "name_folded"]
    # Search keys on name_folded, which follows the name; English names may be corrected.
    readonly_fields = ["code", "name", "full_name", "slug", "type", "name_folded"]


@admin.register(WardAlias)
class WardAliasAdmin(ReadMostlyAdmin):
    list_display = ["label", "kind", "former_code", "former_district", "former_province"]
    list_filter = ["kind", "former_province"]
    search_fields = ["name", "name_folded", "former_code"]
    readonly_fields = [
        "kind", "former_code", "name", "short_name", "name_folded", "former_province",
        "former_district", "label",
    ]
    autocomplete_fields = ["wards"]
