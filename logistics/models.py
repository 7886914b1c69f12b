"""Logistics data. Issue #5: delivery fees per ward (a default applies to wards without a row).

`logistics` knows nothing of orders: it quotes fees for a ward and a weight, and (from #7 on)
carries shipments. Issue #7 groups wards into zones with routes.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WardFee(models.Model):
    """The delivery fee to one ward: a base fee covering some kilograms, a surcharge per extra kg."""

    ward = models.OneToOneField(
        "geo.Ward", on_delete=models.CASCADE, related_name="delivery_fee", verbose_name=_("ward")
    )
    base_fee = models.PositiveBigIntegerField(_("base fee (đồng)"))
    included_kg = models.PositiveIntegerField(_("kilograms the base fee covers"), default=5)
    per_kg_fee = models.PositiveBigIntegerField(_("fee per extra kilogram (đồng)"), default=0)
    # An order whose goods are worth at least this much travels free; empty: never free.
    free_over = models.PositiveBigIntegerField(_("free delivery from (đồng)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ward"]
        verbose_name = _("delivery fee")
        verbose_name_plural = _("delivery fees")
        constraints = [
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gt=0),
                name="logistics_wardfee_free_over_positive",
            ),
        ]

    def __str__(self):
        return f"{self.ward_id}: {self.base_fee}"
