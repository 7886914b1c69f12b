"""Admin for staff fixing data. Status changes go through the services (actions), never by hand."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from marketplace.admin import PlainDisplayAdminMixin
from marketplace.errors import Conflict

from . import services
from .models import Category, Certification, Farm, FarmDecision, HarvestLot, Product, ProductImage
from .search import product_search_refresh


class FarmDecisionInline(admin.TabularInline):
    model = FarmDecision
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "by", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Farm)
class FarmAdmin(admin.ModelAdmin):
    list_display = ["name", "ward", "status", "cccd_last4", "created_at"]
    list_filter = ["status"]
    list_select_related = ["ward", "owner"]
    search_fields = ["name", "representative_name", "phone"]
    raw_id_fields = ["owner"]
    # Status moves only through the verification service, which records the audit trail.
    readonly_fields = ["status", "status_changed_at", "verified_at", "cccd_last4", "owner"]
    exclude = ["cccd_hash"]
    inlines = [FarmDecisionInline]
    actions = ["suspend"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        product_search_refresh(products=obj.products.all())  # name or ward may have changed

    @admin.action(description=_("Suspend the selected households"))
    def suspend(self, request, queryset):
        for farm in queryset:
            try:
                services.farm_suspend(farm=farm, by=request.user, reason=str(_("Suspended by staff")))
            except Conflict as exc:  # not verified (already suspended, pending): report it, go on
                self.message_user(request, f"{farm}: {exc}", messages.WARNING)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "parent", "position", "processed"]
    list_filter = ["processed"]
    list_select_related = ["parent"]
    prepopulated_fields = {"slug": ["name_en"]}


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["position", "status", "original", "thumb", "display"]
    readonly_fields = ["status", "original", "thumb", "display"]


@admin.register(Product)
class ProductAdmin(PlainDisplayAdminMixin, admin.ModelAdmin):
    money_fields = ("price",)
    list_display = ["name", "farm", "category", "unit", "price", "stock", "status"]
    list_filter = ["status", "unit", "category"]
    list_select_related = ["farm", "category"]
    search_fields = ["name", "farm__name"]
    raw_id_fields = ["farm", "lot"]
    inlines = [ProductImageInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        product_search_refresh(products=[obj])


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["farm", "kind", "ocop_stars", "number", "expires_on", "status"]
    list_filter = ["status", "kind"]
    list_select_related = ["farm"]
    raw_id_fields = ["farm", "decided_by"]
    # The file lives in private storage, which has no URL: the admin's file widget would fail.
    exclude = ["document"]
    readonly_fields = [
        "document_name", "status", "decided_by", "decided_at", "expiry_notice_sent_at", "document_type"
    ]

    @admin.display(description=_("certificate (image or PDF)"))
    def document_name(self, obj):
        return obj.document.name


@admin.register(HarvestLot)
class HarvestLotAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "farm", "harvest_date", "quantity"]
    list_select_related = ["product", "farm"]
    raw_id_fields = ["farm", "product"]
    readonly_fields = ["code"]
