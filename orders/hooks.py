"""How orders tells a higher app (reports) that an order changed, without importing it.

`order_changed` is sent with `order_id` inside the transaction that placed, moved, weighed or
refunded an order; receivers act after commit (DESIGN.md layers: nothing imports upward).
"""

from django.dispatch import Signal

order_changed = Signal()
