"""Orders app data. Issue #4: the cart (an account's, or an anonymous session's)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Cart(models.Model):
    """A buyer's cart: an account's (one each), or an anonymous visitor's, keyed by session."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cart",
        verbose_name=_("account"),
    )
    # The key the cart was created under. Login cycles the key, so the session also holds
    # the cart's id (orders.sessions.CART_SESSION_KEY) to find it again for the merge.
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, session_key__isnull=True)
                | Q(user__isnull=True, session_key__isnull=False),
                name="orders_cart_account_xor_session",
            ),
        ]

    def __str__(self):
        return f"cart {self.pk}"

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


class CartLine(models.Model):
    """One listing in a cart. Prices are never stored for paying: only the last one shown."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("listing")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    # The unit price the buyer last saw: the cart says when the current price differs.
    seen_price = models.PositiveBigIntegerField(_("price last shown (đồng)"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="orders_cartline_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_cartline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"
