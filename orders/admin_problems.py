"""Admin for problems reported after delivery (issue #7): staff read every report and answer an
open one on its page — a refund or a refusal — through the same services as households.

Registered from `orders/admin.py` (Django discovers only that module).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from farms.forms import WholeNumberField
from marketplace.errors import Conflict

from .models import Problem, ProblemStatus
from .services import problems as service

RESOLVE, DECLINE = "resolve", "decline"


class ProblemAnswerForm(forms.ModelForm):
    """Staff's answer to an open report; the service decides, this only checks what was typed."""

    decision = forms.ChoiceField(
        label=_("Answer"),
        required=False,
        choices=[("", _("Not yet")), (RESOLVE, _("Refund")), (DECLINE, _("Decline"))],
    )
    amount = WholeNumberField(label=_("Refund (đồng)"), required=False)
    reply = forms.CharField(
        label=_("Message to the buyer"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Problem
        fields = []

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        if decision and self.instance.status != ProblemStatus.OPEN:
            raise ValidationError(_("This report has already been answered."))
        if decision == RESOLVE:
            try:
                service.refund_amount_check(self.instance.line, data.get("amount") or 0)
            except ValidationError as exc:
                self.add_error("amount", exc.message_dict["refund_amount"])
        elif decision == DECLINE and not (data.get("reply") or "").strip():
            self.add_error("reply", _("Tell the buyer why, in a few words."))
        return data


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    """Reports after delivery; an open one is answered on its page (refund or decline)."""

    form = ProblemAnswerForm
    list_display = [
        "id",
        "order_number",
        "farm",
        "product",
        "kind",
        "quantity",
        "status",
        "refund_amount",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["farm_order__order", "farm_order__farm", "line"]
    search_fields = ["farm_order__order__number", "farm_order__farm__name", "line__product_name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "farm_order",
        "line",
        "reported_by",
        "kind",
        "quantity",
        "description",
        "photo_link",
        "status",
        "refund_amount",
        "answer",
        "answered_by",
        "answered_at",
        "created_at",
    ]

    def get_fields(self, request, obj=None):
        answering = (
            ["decision", "amount", "reply"] if obj is not None and obj.status == ProblemStatus.OPEN else []
        )
        return [*self.readonly_fields, *answering]

    @admin.display(description=_("photo"))
    def photo_link(self, problem):
        """The photo is private: staff open it through the checked API view (session signed in)."""
        if not problem.photo:
            return "—"
        url = reverse("problem-photo", args=[problem.pk])
        return format_html('<a href="{}"><img src="{}" width="160" alt=""></a>', url, url)

    @admin.display(description=_("order"), ordering="farm_order__order__number")
    def order_number(self, problem):
        return problem.farm_order.order.number

    @admin.display(description=_("household"))
    def farm(self, problem):
        return problem.farm_order.farm.name

    @admin.display(description=_("product"))
    def product(self, problem):
        return problem.line.product_name

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Answer through the service (never a bare save): the refund and the ledger follow."""
        decision = form.cleaned_data.get("decision")
        try:
            if decision == RESOLVE:
                service.problem_resolve(
                    problem=obj,
                    by=request.user,
                    refund_amount=form.cleaned_data["amount"],
                    answer=form.cleaned_data["reply"],
                )
            elif decision == DECLINE:
                service.problem_decline(problem=obj, by=request.user, answer=form.cleaned_data["reply"])
        except (ValidationError, Conflict) as exc:
            text = str(exc.message) if isinstance(exc, Conflict) else " ".join(exc.messages)
            self.message_user(request, text, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited here
