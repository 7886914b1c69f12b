"""Everything that writes orders data. Import services from here."""

from .cart import (  # noqa: F401
    MergeCap,
    cart_add,
    cart_delete_for_user,
    cart_get_or_create,
    cart_line_remove,
    cart_line_set_quantity,
    cart_mark_seen,
    cart_merge,
    cart_show,
    carts_purge_abandoned,
    parse_quantity,
    quantity_text,
)
from .orders import farm_order_transition, order_number_new, order_transition  # noqa: F401
