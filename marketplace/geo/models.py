"""The 103 wards and communes of Cần Thơ (since 1 July 2025) and their former names."""
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class WardType(models.TextChoices):
    # "Ward" alone is also a column heading ("Phường/xã": a ward or a commune); as the kind of
    # one unit it is "Phường", hence the context.
    PHUONG = "phuong", pgettext_lazy("kind of local unit", "Ward")
    XA = "xa", _("Commune")


class Ward(models.Model):
    """A current ward (phường) or commune (xã), identified by its 5-digit code."""

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    full_name = models.CharField(_("full name"), max_length=120)
    name_en = models.CharField(max_length=100)
    full_name_en = models.CharField(max_length=120)
    slug = models.SlugField(max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=8, choices=WardType.choices)
    # Accent-free, lower-case name for search ("phong dien").
    name_folded = models.CharField(max_length=100, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("ward or commune")
        verbose_name_plural = _("wards and communes")

    def __str__(self):
        # Every dropdown (forms, admin) shows a ward by this one name.
        return self.display_full_name

    @property
    def display_full_name(self) -> str:
        """"Phường Cái Khế" in Vietnamese; "Cái Khế (Ward)" elsewhere: the name is a proper noun and
        keeps its accents, the kind of unit is translated.

        The Vietnamese form is the ward's official full name, never built from a translated kind
        of unit (the heading "Ward" reads "Phường/xã", which is no ward's name)."""
        if (get_language() or "vi").startswith("vi"):
            return self.full_name
        return f"{self.name} ({self.get_type_display()})"

    @property
    def english_full_name(self) -> str:
        """"Cái Khế (Ward)", "Nhơn Ái (Commune)" whatever the active language: what an English
        page offered, read back when it is typed or chosen."""
        kind = "Ward" if self.type == WardType.PHUONG else "Commune"
        return f"{self.name} ({kind})"


class AliasKind(models.TextChoices):
    FORMER_UNIT = "former_unit", _("Former ward, commune or town")
    FORMER_DISTRICT = "former_district", _("Former district")


class WardAlias(models.Model):
    """A name people still use: a former unit or district, resolving to the wards it fed."""

    kind = models.CharField(max_length=16, choices=AliasKind.choices)
    former_code = models.CharField(max_length=5)
    name = models.CharField(max_length=120)  # "Huyện Phong Điền", "Phường An Hòa"
    short_name = models.CharField(max_length=100)  # "Phong Điền", "An Hòa"
    name_folded = models.CharField(max_length=100, db_index=True)  # "phong dien"
    former_province = models.CharField(max_length=60, blank=True)
    former_district = models.CharField(max_length=60, blank=True)
    # What a person reads: `name`, plus the former province where two districts shared a
    # name ("Huyện Châu Thành (Tỉnh Hậu Giang)"); set by the loader, which sees all of them.
    label = models.CharField(max_length=160)
    wards = models.ManyToManyField(Ward, related_name="aliases")

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("former name of a ward")
        verbose_name_plural = _("former names of wards")
        constraints = [
            models.UniqueConstraint(fields=["kind", "former_code"], name="geo_alias_unique_code"),
        ]

    def __str__(self):
        return self.name
