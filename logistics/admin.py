from django.contrib import admin

from .models import WardFee


@admin.register(WardFee)
class WardFeeAdmin(admin.ModelAdmin):
    list_display = ["ward", "base_fee", "included_kg", "per_kg_fee", "free_over", "updated_at"]
    list_select_related = ["ward"]
    search_fields = ["ward__name", "ward__code"]
    autocomplete_fields = []
    raw_id_fields = ["ward"]
