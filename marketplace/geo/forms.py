"""Form fields that name a ward: one display name everywhere, and a ward found by a former name."""
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Ward
from .selectors import alias_labels, former_names_matching, ward_list, wards_for_place


def ward_label(ward: Ward) -> str:
    """What a dropdown shows: "Phường An Bình" in Vietnamese, "An Bình (Ward)" in English."""
    return ward.display_full_name


def ward_label_with_former_names(ward: Ward, names: list[str]) -> str:
    """"Phường Ô Môn (formerly: Quận Ô Môn)": the ward, and the former names that led to it."""
    if not names:
        return ward_label(ward)
    return _("%(ward)s (formerly: %(names)s)") % {"ward": ward_label(ward), "names": ", ".join(names)}


class WardChoiceField(forms.ModelChoiceField):
    """A <select> of wards, each shown by `ward_label`."""

    def label_from_instance(self, ward):
        return ward_label(ward)


class WardInput(forms.TextInput):
    """A text box suggesting every ward with its former names (a <datalist>: no script needed).

    After a name that means several wards ("Phong Điền") it is a <select> of just those.
    """

    template_name = "geo/ward_input.html"

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "autocapitalize": "words", **(attrs or {})})
        self.candidates: list[tuple[Ward, list[str]]] = []

    def format_value(self, value):
        if isinstance(value, Ward):
            return ward_label(value)
        if isinstance(value, str) and value.isdigit():
            ward = Ward.objects.filter(pk=value).first()
            if ward is not None:
                return ward_label(ward)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["list_id"] = f"{widget['attrs'].get('id') or name}-wards"
        if self.candidates:
            widget["candidates"] = [
                (ward.code, ward_label_with_former_names(ward, names)) for ward, names in self.candidates
            ]
            widget["choose_label"] = _("Choose your ward or commune")
        else:
            widget["options"] = [
                (ward_label(ward), ", ".join(alias_labels(ward)))
                for ward in ward_list().order_by("name_folded", "name")
            ]
            widget["formerly"] = _("formerly")
        return context


class WardField(forms.Field):
    """A ward typed or chosen by its current or former name, resolved on the server."""

    widget = WardInput
    default_error_messages = {
        "required": _("Enter your ward or commune, e.g. Nhơn Ái or Phong Điền."),
        "unknown": _(
            "No ward or commune of Cần Thơ is called “%(text)s”. Type its current or former name, "
            "e.g. Nhơn Ái, Phong Điền or Ô Môn."
        ),
        "several": _("“%(text)s” now lies in several wards or communes: choose yours."),
    }

    def to_python(self, value):
        if isinstance(value, Ward):
            return value
        text = (value or "").strip()[:120]
        if not text:
            return None
        wards = wards_for_place(text=text)
        if not wards:
            raise ValidationError(self.error_messages["unknown"], code="unknown", params={"text": text})
        if len(wards) > 1:
            self.widget.candidates = [(ward, former_names_matching(ward, text=text)) for ward in wards]
            raise ValidationError(self.error_messages["several"], code="several", params={"text": text})
        return wards[0]

    def prepare_value(self, value):
        return value.pk if isinstance(value, Ward) else value

    def has_changed(self, initial, data):
        initial_code = initial.pk if isinstance(initial, Ward) else initial
        try:
            ward = self.to_python(data)
        except ValidationError:
            return True
        return (ward.pk if ward else None) != (initial_code or None)
