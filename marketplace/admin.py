"""Admin pieces every app uses."""
from django.contrib import admin
from django.utils.translation import gettext

from marketplace.money import format_vnd


class ReadOnlyAdminMixin:
    """Show rows without letting anyone add, change or delete them (they change through services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlainDisplayAdminMixin:
    """Show money as `186.000 ₫` and status codes by their label, in lists and read-only fields.

    `money_fields` name the đồng amounts and `label_fields` map a code field to the choices
    whose labels it shows (a status history keeps bare codes: "pending_payment"). Each named
    field is swapped, where it is shown read-only, for a display of the same title that sorts
    by the field. Works on model admins and inlines alike.
    """

    money_fields: tuple[str, ...] = ()
    label_fields: dict = {}
    # Text the code writes in English msgids (a status change's "Order placed."), shown translated.
    translated_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shown = {}
        for name in self.money_fields:
            shown[name] = self._display(name, format_vnd)
        for name, choices in self.label_fields.items():
            labels = dict(getattr(choices, "choices", choices))
            shown[name] = self._display(name, lambda value, labels=labels: labels.get(value, value))
        for name in self.translated_fields:
            shown[name] = self._display(name, lambda value: gettext(value) if value else "")
        self._shown = shown
        if not shown:
            return
        readonly = set(self.readonly_fields or ())
        if getattr(self, "list_display", None):  # model admins; inlines have none
            editable = set(getattr(self, "list_editable", ()) or ())
            self.list_display = [
                shown[n] if isinstance(n, str) and n in shown and n not in editable else n
                for n in self.list_display
            ]
        if self.fields:
            self.fields = [shown[n] if n in shown and n in readonly else n for n in self.fields]
        self.readonly_fields = [shown.get(n, n) for n in self.readonly_fields or ()]

    def _view_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        # A view-only change page lists the model's fields itself: show those the same way.
        fields = super().get_fields(request, obj)
        if self._view_only(request, obj):
            fields = list(dict.fromkeys(self._shown.get(name, name) for name in fields))
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._view_only(request, obj):
            readonly += [name for name in self._shown.values() if name not in readonly]
        return readonly

    def _display(self, name: str, show) -> str:
        field = self.model._meta.get_field(name)
        attribute = f"{name}_shown"

        @admin.display(description=field.verbose_name, ordering=name)
        def display(obj):
            value = getattr(obj, name)
            return self.get_empty_value_display() if value is None else show(value)

        setattr(self, attribute, display)
        return attribute
