"""Logistics data: delivery zones of wards, their fees and their routes (issues #5, #7).

`logistics` knows nothing of orders: it quotes fees for a ward and a weight, and (from #7 on)
carries shipments. Every ward is in exactly one zone (`ZoneWard.ward` is one-to-one, and the
seed puts all 103 in one); a zone's wards, in `position` order, are its route.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Zone(models.Model):
    """A delivery zone: a base fee covering some kilograms, a surcharge per extra kg, free over a value."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    name_en = models.CharField(_("name in English"), max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    base_fee = models.PositiveBigIntegerField(_("base fee (đồng)"))
    included_kg = models.PositiveIntegerField(_("kilograms the base fee covers"), default=5)
    per_kg_fee = models.PositiveBigIntegerField(_("fee per extra kilogram (đồng)"), default=0)
    # An order whose goods are worth at least this much travels free; empty: never free.
    free_over = models.PositiveBigIntegerField(_("free delivery from (đồng)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("delivery zone")
        verbose_name_plural = _("delivery zones")
        constraints = [
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gt=0),
                name="logistics_zone_free_over_positive",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name


class ZoneWard(models.Model):
    """A ward's place in its zone's route: each ward in exactly one zone."""

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="route", verbose_name=_("zone"))
    ward = models.OneToOneField(
        "geo.Ward", on_delete=models.CASCADE, related_name="zone_place", verbose_name=_("ward")
    )
    position = models.PositiveSmallIntegerField(_("order on the route"), default=0)

    class Meta:
        ordering = ["zone", "position", "ward"]
        verbose_name = _("ward of a zone")
        verbose_name_plural = _("wards of a zone")

    def __str__(self):
        return f"{self.zone_id}/{self.position}: {self.ward_id}"
