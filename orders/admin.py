"""Admin for staff looking into carts and orders. Everything changes through the services, not by hand.

Order and farm-order statuses move only through `orders.services` transitions, so these pages are
read-only.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from farms.forms import FormErrorsMixin, WholeNumberField
from farms.models import Farm
from marketplace.accounts.models import Role
from marketplace.admin import PlainDisplayAdminMixin, ReadOnlyAdminMixin
from marketplace.errors import Conflict
from marketplace.money import format_vnd

from .models import (
    Cart,
    CartLine,
    CodStanding,
    FarmOrder,
    FarmOrderStatus,
    LedgerEntry,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    StatusChange,
    WebhookEvent,
)
from .payments import PaymentError
from .services import cod_restore, payment_transfer_received, refund_mark_sent, refund_retry
from .services.ledger import payout_record

#: The codes a status history holds, orders' and farm orders' alike, with their labels.
STATUS_LABELS = [*FarmOrderStatus.choices, *OrderStatus.choices]


class CartLineInline(PlainDisplayAdminMixin, admin.TabularInline):
    money_fields = ("seen_price",)
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


class FarmOrderInline(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    money_fields = ("subtotal",)
    model = FarmOrder
    extra = 0
    fields = ["farm", "status", "subtotal", "created_at", "updated_at"]
    readonly_fields = fields
    show_change_link = True


class StatusChangeInline(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    # Bare codes in the table ("pending_payment"): shown by their labels.
    label_fields = {"from_status": STATUS_LABELS, "to_status": STATUS_LABELS}
    translated_fields = ("note",)
    model = StatusChange
    extra = 0
    fields = ["at", "farm_order", "from_status", "to_status", "by", "note"]
    readonly_fields = fields


class OrderLineInline(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    money_fields = ("unit_price", "line_total")
    model = OrderLine
    extra = 0
    fields = ["product", "product_name", "unit", "unit_price", "quantity", "line_total", "stock_returned_at"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields = ("total",)
    list_display = ["number", "buyer", "status", "payment_status", "payment_method", "total", "created_at"]
    list_filter = ["status", "payment_status", "payment_method"]
    list_select_related = ["buyer"]
    search_fields = ["number", "buyer__phone", "delivery_phone"]
    date_hierarchy = "created_at"
    inlines = [FarmOrderInline, StatusChangeInline]


@admin.register(FarmOrder)
class FarmOrderAdmin(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields = ("subtotal",)
    list_display = ["id", "order", "farm", "status", "subtotal", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order", "farm"]
    search_fields = ["order__number", "farm__name"]
    inlines = [OrderLineInline]


class RefundInline(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    money_fields = ("amount",)
    model = Refund
    extra = 0
    fields = ["key", "amount", "status", "external", "reason", "reference", "error", "created_at", "sent_at"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments are read-only; a bank transfer seen on the account is confirmed with the action."""

    money_fields = ("amount", "paid_amount", "refunded_amount")

    actions = ["transfer_received"]

    @admin.action(description=_("Mark bank transfer received (VietQR)"))
    def transfer_received(self, request, queryset):
        done = 0
        for payment in queryset.filter(method="vietqr", status__in=["pending", "cancelled"]).select_related(
            "order"
        ):
            try:
                payment_transfer_received(payment=payment, by=request.user)
            except PaymentError as exc:
                self.message_user(request, f"{payment.order.number}: {exc.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d transfer recorded as received.", "%(count)d transfers recorded as received.", done
            )
            % {"count": done},
            messages.SUCCESS,
        )

    list_display = [
        "id",
        "order",
        "method",
        "status",
        "amount",
        "paid_amount",
        "refunded_amount",
        "created_at",
    ]
    list_filter = ["method", "status"]
    list_select_related = ["order"]
    search_fields = ["order__number", "reference"]
    inlines = [RefundInline]


@admin.register(CodStanding)
class CodStandingAdmin(admin.ModelAdmin):
    """Buyers' refused deliveries; the action gives a suspended buyer cash on delivery back."""

    list_display = ["buyer", "refusals", "suspended_at", "restored_at", "restored_by"]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter)]
    list_select_related = ["buyer", "restored_by"]
    search_fields = ["buyer__phone", "buyer__full_name"]
    readonly_fields = ["buyer", "refusals", "suspended_at", "restored_at", "restored_by"]
    actions = ["restore_cod"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Restore cash on delivery"))
    def restore_cod(self, request, queryset):
        for standing in queryset.select_related("buyer"):
            cod_restore(buyer=standing.buyer, by=request.user)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "Cash on delivery restored for %(count)d buyer.",
                "Cash on delivery restored for %(count)d buyers.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payment providers' events as received; `error` says why one changed nothing (staff look)."""

    list_display = ["received_at", "provider", "type", "event_id", "processed_at", "error"]
    list_filter = ["provider", "type", ("error", admin.EmptyFieldListFilter)]
    search_fields = ["event_id"]
    readonly_fields = ["provider", "event_id", "type", "payload", "received_at", "processed_at", "error"]


@admin.register(Refund)
class RefundAdmin(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Refunds: those paid back by hand (cash, bank transfers) are recorded here once sent."""

    money_fields = ("amount",)

    list_display = ["created_at", "key", "payment", "amount", "status", "external", "reference", "sent_at"]
    list_filter = ["status", "external", "payment__method"]
    list_select_related = ["payment__order"]
    search_fields = ["key", "payment__order__number", "reference"]
    readonly_fields = [
        "payment",
        "key",
        "amount",
        "reason",
        "reference",
        "status",
        "external",
        "error",
        "sent_at",
    ]
    actions = ["mark_sent", "retry"]

    @admin.action(description=_("Mark refund paid back by hand"))
    def mark_sent(self, request, queryset):
        self._each(
            request,
            queryset.filter(status="pending"),
            lambda refund: refund_mark_sent(refund=refund, by=request.user),
        )

    @admin.action(description=_("Send failed refunds again"))
    def retry(self, request, queryset):
        self._each(request, queryset.filter(status="failed"), lambda refund: refund_retry(refund=refund))

    def _each(self, request, refunds, act) -> None:
        done = 0
        for refund in refunds.select_related("payment"):
            try:
                act(refund)
            except Conflict as exc:
                self.message_user(request, f"{refund.key}: {exc.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext("%(count)d refund done.", "%(count)d refunds done.", done) % {"count": done},
            messages.SUCCESS,
        )


# --- The settlement ledger (issue #7) ------------------------------------------------------


class PayoutForm(FormErrorsMixin, forms.Form):
    """Staff record a bank transfer to a household; `payout_record` judges the amount."""

    farm = forms.ModelChoiceField(label=_("Household"), queryset=Farm.objects.none())
    amount = WholeNumberField(label=_("Amount transferred (đồng)"))
    reference = forms.CharField(label=_("Bank transfer reference"), max_length=64)
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)
    # Made when the form is shown: sending the same form twice records one payout.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Households the marketplace owes money to, with what it owes each (one query).
        self.fields["farm"].queryset = (
            Farm.objects.annotate(balance=Sum("ledger__net")).filter(balance__gt=0).order_by("name", "pk")
        )
        self.fields["farm"].label_from_instance = lambda farm: f"{farm.name} — {format_vnd(farm.balance)}"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(PlainDisplayAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Households' ledgers, read-only; "Record a payout" books a bank transfer to a household."""

    money_fields = ("gross", "commission", "tax", "net")

    list_display = [
        "at",
        "farm",
        "kind",
        "order_number",
        "gross",
        "commission",
        "tax",
        "net",
        "reference",
        "statement",
    ]
    list_filter = ["kind", ("farm", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["farm", "farm_order__order"]
    search_fields = ["key", "reference", "farm__name", "farm_order__order__number"]
    date_hierarchy = "at"
    readonly_fields = [
        "farm",
        "farm_order",
        "kind",
        "key",
        "gross",
        "commission",
        "tax",
        "net",
        "reference",
        "note",
        "by",
        "at",
    ]

    @admin.display(description=_("order"), ordering="farm_order__order__number")
    def order_number(self, entry: LedgerEntry) -> str:
        return entry.farm_order.order.number if entry.farm_order_id else ""

    @admin.display(description=_("statement"))
    def statement(self, entry: LedgerEntry) -> str:
        month = timezone.localtime(entry.at).strftime("%Y-%m")
        url = reverse("orders:staff_statement", kwargs={"farm_id": entry.farm_id, "month": month})
        return format_html('<a href="{}">{}</a>', url, month)

    def get_urls(self):
        payout = path(
            "payout/", self.admin_site.admin_view(self.payout_view), name="orders_ledgerentry_payout"
        )
        return [payout, *super().get_urls()]

    def payout_view(self, request):
        if not (request.user.role == Role.STAFF and self.has_view_permission(request)):
            raise PermissionDenied
        posted = request.method == "POST"
        form = PayoutForm(
            request.POST if posted else None,
            initial={"farm": request.GET.get("farm"), "idempotency_key": uuid.uuid4().hex},
        )
        if posted and form.is_valid():
            data = {**form.cleaned_data, "by": request.user}
            data["idempotency_key"] = data["idempotency_key"] or None
            try:
                entry = payout_record(**data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except Conflict as exc:
                form.add_error("amount", str(exc.message))
            else:
                self.message_user(
                    request,
                    _("Payout of %(amount)s to %(farm)s recorded (reference %(reference)s).")
                    % {
                        "amount": format_vnd(-entry.net),
                        "farm": data["farm"].name,
                        "reference": entry.reference,
                    },
                    messages.SUCCESS,
                )
                changelist = reverse("admin:orders_ledgerentry_changelist")
                return HttpResponseRedirect(f"{changelist}?farm__id__exact={entry.farm_id}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Record a payout"),
            "form": form,
        }
        return TemplateResponse(
            request, "admin/orders/ledgerentry/payout.html", context, status=400 if form.errors else 200
        )


from . import admin_problems  # noqa: E402, F401  (registers the Problem admin, issue #7)
