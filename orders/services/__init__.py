"""Everything that writes orders data. Import services from here."""

from .cart import (  # noqa: F401
    MergeCap,
    cart_add,
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
from .checkout import Delivery, checkout_place, checkout_quote, delivery_parse, ward_for_code  # noqa: F401
from .cod import cod_refusal, cod_restore, delivery_refused_record  # noqa: F401
from .fulfilment import farm_order_accept, farm_order_ready, farm_order_reject, order_cancel  # noqa: F401
from .orders import (  # noqa: F401
    farm_order_transition,
    farm_orders_move,
    order_number_new,
    order_transition,
)
from .payments import (  # noqa: F401
    order_confirm,
    order_pay_again,
    payment_callback_apply,
    payment_outcome_apply,
    payment_refund,
    payment_start,
    payment_transfer_received,
    payments_expire_unpaid,
    payments_reconcile,
    refund_mark_sent,
    refund_retry,
    refund_send,
    refunds_resend,
    webhook_process,
    webhook_receive,
    webhooks_reprocess,
)
